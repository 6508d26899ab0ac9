"""Archive and tasking requests as a requester's client sends them, over Airbus archive scenes that
are known to be in the catalogue the stack runs (no test framework imported).

    scenes = ensure_archive_items(servers.postgres_dsn)   # through the catalogue's own command line
    body = archive_request(scenes[0], title="Dunes", clip_km=3)   # ≈ 9 km²: within any free quota
    body = tasking_request(square(3.8, 43.6, 10), start=None, days=10, priority="high")

The scenes are ``dinamis_cli.catalogue.ARCHIVE_SCENES`` (the ones ``make up``'s demo requests pick):
fixed ids and footprints over France and Guadeloupe, Pléiades (about 20 km) and SPOT 6/7 (about 60 km).
An archive request clipped to a ``clip_km`` square inside its scene is accepted by the dev and test
profiles' rule (archive within the free quota: 500 km² per Pléiades request) when ``clip_km`` ≤ 20.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from dinamis_cli.catalogue import ARCHIVE_SCENES, ArchiveScene, load_archive_scenes, square

__all__ = ["ARCHIVE_SCENES", "ArchiveScene", "archive_request", "archive_scene", "ensure_archive_items",
           "ensure_archive_items_async", "square", "tasking_request"]

JUSTIFICATION = "Test kit: a study area of the lab's project (justification required by the intake)."
_loaded: set[str] = set()  # databases this process already loaded them into
_lock = threading.Lock()


def ensure_archive_items(postgres_dsn: str) -> list[ArchiveScene]:
    """Makes sure the known ``airbus-archive`` scenes are in the catalogue of ``postgres_dsn`` (once per
    process and database: an ingest of items already there changes nothing); returns them."""
    with _lock:
        if postgres_dsn not in _loaded:
            load_archive_scenes(postgres_dsn)
            _loaded.add(postgres_dsn)
    return list(ARCHIVE_SCENES)


async def ensure_archive_items_async(postgres_dsn: str) -> list[ArchiveScene]:
    return await asyncio.to_thread(ensure_archive_items, postgres_dsn)


def archive_scene(mission: str = "pleiades", n: int = 0) -> ArchiveScene:
    """The ``n``-th known scene of ``mission`` (``pleiades`` or ``spot-6-7``)."""
    return [s for s in ARCHIVE_SCENES if s.mission == mission][n]


def archive_request(items: ArchiveScene | Sequence[ArchiveScene], title: str = "Archive scene", clip_km: float = 3,
                    *, offset_km: tuple[float, float] = (0.0, 0.0), justification: str = JUSTIFICATION,
                    funding_reference: str | None = None, mission: str | None = None) -> dict[str, Any]:
    """The body of ``POST /api/requests`` (and of a quote) asking for ``items``, each clipped to a
    ``clip_km`` square at its centre moved by ``offset_km`` (east, north); ``clip_km=None``: whole scenes.
    The mission is the first scene's unless given (a mismatch is the caller's test)."""
    scenes = [items] if isinstance(items, ArchiveScene) else list(items)
    picked = []
    for s in scenes:
        scene: dict[str, Any] = {"item_id": s.id}
        if clip_km:
            lon, lat = _moved(s.lon, s.lat, *offset_km)
            scene["aoi"] = square(lon, lat, clip_km)
        picked.append(scene)
    body = {"kind": "archive", "title": title, "mission": mission or scenes[0].mission,
            "justification": justification, "archive": {"scenes": picked}}
    if funding_reference:
        body["funding_reference"] = funding_reference
    return body


def tasking_request(aoi: dict[str, Any], start: datetime | None = None, days: float = 10, *,
                    title: str = "New acquisition", mission: str = "pleiades", mode: str = "mono",
                    priority: str = "standard", max_cloud_cover: float = 20, max_incidence_angle: float = 30,
                    justification: str = JUSTIFICATION, funding_reference: str | None = None) -> dict[str, Any]:
    """The body of a tasking request over ``aoi`` for a window of ``days`` from ``start`` (default: in
    three days, the intake wanting at least two days ahead and seven days long)."""
    start = start or datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = {"kind": "tasking", "title": title, "mission": mission, "justification": justification, "aoi": aoi,
            "tasking": {"window": {"start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat()},
                        "max_cloud_cover": max_cloud_cover, "max_incidence_angle": max_incidence_angle,
                        "mode": mode, "priority": priority}}
    if funding_reference:
        body["funding_reference"] = funding_reference
    return body


def _moved(lon: float, lat: float, east_km: float, north_km: float) -> tuple[float, float]:
    return (lon + east_km / (111.32 * math.cos(math.radians(lat))), lat + north_km / 111.32)
