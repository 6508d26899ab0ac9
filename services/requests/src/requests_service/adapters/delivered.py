"""Delivered imagery over an area, from the catalogue's STAC API (``POST {catalogue_url}/stac/search``:
never its database): the mission's delivered collection, ``intersects`` the area, ``datetime`` the
interval, and the cloud and incidence limits as a CQL2-JSON filter (the catalogue evaluates it in
pgstac). Only what an offer needs is asked for (the fields extension); the catalogue answers the most
recent first, and the caller ranks by coverage.

``search_delivered`` is self-contained so that ``HttpCatalogue.delivered_covering``
(``adapters.catalogue``) can call it with its own client; :class:`HttpDelivered` is the same with a
client of its own. A catalogue that does not answer, or answers 5xx, raises an ``httpx`` error the
runtime answers with 503 and Retry-After (``dinamis_common.errors``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

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


async def search_delivered(http: httpx.AsyncClient, mission: str, aoi: dict[str, Any], start: datetime | None,
                           end: datetime | None, max_cloud_cover: float | None, max_incidence_angle: float | None,
                           limit: int) -> list[dict[str, Any]]:
    """The delivered STAC items (features) matching; ``http`` has the catalogue as its base URL."""
    if mission not in DELIVERED_COLLECTION:
        return []
    response = await http.post("/stac/search", json=search_body(mission, aoi, start, end, max_cloud_cover,
                                                                max_incidence_angle, limit))
    response.raise_for_status()
    return list(response.json().get("features") or [])


class HttpDelivered:
    """The ``delivered_covering`` half of the Catalogue port, on a client of its own."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def delivered_covering(self, mission: str, aoi: dict[str, Any], start: datetime | None,
                                 end: datetime | None, max_cloud_cover: float | None,
                                 max_incidence_angle: float | None, limit: int) -> list[dict[str, Any]]:
        return await search_delivered(self.http, mission, aoi, start, end, max_cloud_cover, max_incidence_angle,
                                      limit)

    async def aclose(self) -> None:
        await self.http.aclose()
