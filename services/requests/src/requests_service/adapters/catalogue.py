"""The catalogue's public STAC API over HTTP (never its database): the Catalogue port.

A catalogue that does not answer (refused connection, time-out, 5xx or 429) raises
:class:`UpstreamUnavailable`, which the runtime answers 503 with Retry-After; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from requests_service.adapters.delivered import search_body
from requests_service.adapters.http import HttpService
from requests_service.domain.offers import DELIVERED_COLLECTION

ARCHIVE = "airbus-archive"


class HttpCatalogue(HttpService):
    name = "the catalogue"

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self._send("POST", "/stac/search", json=body)
        if r.status_code != 200:  # this service's own query is wrong: a bug, not the requester's doing
            raise RuntimeError(f"the catalogue refused a search ({r.status_code}): {r.text[:300]}")
        return r.json()

    async def archive_items(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The ``airbus-archive`` STAC items among ``item_ids``, by id (unknown ids are absent)."""
        ids = list(dict.fromkeys(item_ids))
        if not ids:
            return {}
        found = await self._search({"collections": [ARCHIVE], "ids": ids, "limit": len(ids)})
        return {f["id"]: f for f in found.get("features", []) if f.get("id") in ids}

    async def delivered_covering(self, mission: str, aoi: dict[str, Any], start: datetime | None,
                                 end: datetime | None, max_cloud_cover: float | None,
                                 max_incidence_angle: float | None, limit: int) -> list[dict[str, Any]]:
        """Delivered items of ``mission`` intersecting ``aoi`` within the limits (``adapters.delivered``
        builds the search), the most recent first; errors as for every search of this client."""
        if mission not in DELIVERED_COLLECTION:
            return []
        found = await self._search(search_body(mission, aoi, start, end, max_cloud_cover, max_incidence_angle,
                                               limit))
        return list(found.get("features") or [])
