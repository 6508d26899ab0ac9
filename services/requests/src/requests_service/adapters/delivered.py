"""Delivered imagery over an area, from the catalogue's STAC API (``POST {catalogue_url}/stac/search``:
never its database): the mission's delivered collection, ``intersects`` the area, ``datetime`` the
interval, and the cloud and incidence limits as a CQL2-JSON filter (the catalogue evaluates it in
pgstac). Only what an offer needs is asked for (the fields extension); the catalogue answers the most
recent first, and the caller ranks by coverage.

``HttpCatalogue.delivered_covering`` (``adapters.catalogue``) sends it on its client, with its
error mapping (a catalogue that does not answer: 503 with Retry-After).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from requests_service.domain.offers import DELIVERED_COLLECTION

FIELDS = ["id", "collection", "geometry", "properties.datetime", "properties.eo:cloud_cover",
          "properties.view:incidence_angle"]


def _rfc3339(when: datetime | None) -> str:
    if when is None:
        return ".."
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def search_body(mission: str, aoi: dict[str, Any], start: datetime | None, end: datetime | None,
                max_cloud_cover: float | None, max_incidence_angle: float | None, limit: int) -> dict[str, Any]:
    body: dict[str, Any] = {"collections": [DELIVERED_COLLECTION[mission]], "intersects": aoi, "limit": limit,
                            "fields": {"include": FIELDS}}
    if start is not None or end is not None:
        body["datetime"] = f"{_rfc3339(start)}/{_rfc3339(end)}"
    terms = [{"op": "<=", "args": [{"property": name}, limit_]}
             for name, limit_ in (("eo:cloud_cover", max_cloud_cover), ("view:incidence_angle", max_incidence_angle))
             if limit_ is not None]
    if terms:
        body["filter"] = terms[0] if len(terms) == 1 else {"op": "and", "args": terms}
        body["filter-lang"] = "cql2-json"
    return body
