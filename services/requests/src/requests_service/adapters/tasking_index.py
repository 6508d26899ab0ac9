"""Pending tasking requests by place and time, in MongoDB: a projection of this service's own events
(``entrypoints.consumers.tasking_index``), read at every quote to offer joining one.

FerretDB has no geospatial query and pushes down only top-level equality (../shared/FERRETDB.md), so
the area is indexed on a **grid**: one document per (request, tile), ``_id = "<request>|<tile>"``
(deterministic: a replayed event inserts nothing new), found by equality on its top-level ``tile``;
then the exact intersection and the time filter are made here (shapely, after a bounding-box and
window check that skips most candidates without parsing their area).

Tiles are squares of 0.25°, 1° and 10° (``LEVELS``; the largest area intake takes, 1,000,000 km², spans
at most 2 × 3 tiles of 10°, so no coarser level is ever a request's own). A request's *own* level is the
finest at which its area spans at most ``MAX_TILES`` tiles; it is stored at its own level and at every
coarser one, under ``tile = "<mission>:<level>:<own level>:<x>:<y>"``. A query whose own level is ``q``
reads, at level ``q``, the keys of every own level up to ``q`` in its tiles, and at each coarser level
``l`` the keys of own level ``l``: every stored request sharing a point with the query shares a tile
with it at one of these, and a small area never reads the big ones twice. A request of up to a few
hundred km² is 1 to 4 documents at 0.25° plus one or two each at 1° and 10°; a quote reads about three
to seven keys. The finest level sets how many documents one key holds: with 10,000 pending taskings over
mainland France, a 0.25° key holds about ten of a mission where a 1° key held 150, and a quote's lookup
took 9.6 ms instead of 29 (p50, FerretDB 1.24, bench/quote).

**Removal wins, whatever the order.** A request leaving the pending set (rejected, cancelled, failed,
expired, delivered, closed) gets a tombstone (``pending_tasking_removals``, ``_id`` = its id), then its
documents are deleted by ``request_id``. An addition inserts its documents, then looks for a tombstone
and deletes them if there is one. Whichever runs first, and with any number of replicas, no document
of a removed request survives both steps. Tombstones and documents of windows long past are swept
(``sweep``) after the stream's retention: a replay from the first offset then finds the tombstone.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from requests_service.domain.offers import area_km2, windows_overlap
from requests_service.service_layer.ports import PendingTasking

LEVELS = (0.25, 1, 10)  # tile sizes in degrees, finest first
MAX_TILES = 16


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return list(getattr(geom, "geoms", [geom]))


def _span(geom: BaseGeometry, level: int) -> set[tuple[int, int]]:
    """The tiles of ``level`` the bounding boxes of ``geom``'s parts touch."""
    cells: set[tuple[int, int]] = set()
    for part in _parts(geom):
        minx, miny, maxx, maxy = part.bounds
        for x in range(math.floor(minx / level), math.floor(maxx / level) + 1):
            for y in range(math.floor(miny / level), math.floor(maxy / level) + 1):
                cells.add((x, y))
    return cells


def own_level(geom: BaseGeometry) -> int:
    return next((lv for lv in LEVELS if len(_span(geom, lv)) <= MAX_TILES), LEVELS[-1])


def tiles_at(geom: BaseGeometry, level: int) -> list[tuple[int, int]]:
    """The tiles of ``level`` that ``geom`` itself touches (not only its bounding box)."""
    return sorted((x, y) for x, y in _span(geom, level)
                  if geom.intersects(box(x * level, y * level, (x + 1) * level, (y + 1) * level)))


def stored_keys(mission: str, geom: BaseGeometry) -> list[str]:
    """The tiles a pending tasking of ``mission`` over ``geom`` is stored under."""
    own = own_level(geom)
    return [f"{mission}:{lv}:{own}:{x}:{y}" for lv in LEVELS if lv >= own for x, y in tiles_at(geom, lv)]


def query_keys(mission: str, geom: BaseGeometry) -> list[str]:
    """The tiles to read to find every pending tasking of ``mission`` sharing a point with ``geom``."""
    q = own_level(geom)
    keys = [f"{mission}:{q}:{own}:{x}:{y}" for own in LEVELS if own <= q for x, y in tiles_at(geom, q)]
    keys += [f"{mission}:{lv}:{lv}:{x}:{y}" for lv in LEVELS if lv > q for x, y in tiles_at(geom, lv)]
    return keys


class MongoTaskingIndex:
    def __init__(self, entries: AsyncCollection, removals: AsyncCollection) -> None:
        self.entries = entries
        self.removals = removals

    async def ensure_indexes(self) -> None:
        # what real MongoDB needs (the stack gives FerretDB GIN indexes on _id and request_id; the
        # tile field needs one too: dinamis_cli.stack.indexes.FIELDS)
        await self.entries.create_index([("tile", ASCENDING)], name="tile")
        await self.entries.create_index([("request_id", ASCENDING)], name="request_id")

    async def add(self, pending: PendingTasking) -> bool:
        """Index a pending tasking (again: nothing changes); ``False`` if it was removed already."""
        geom = shape(pending.aoi)
        minx, miny, maxx, maxy = geom.bounds
        common = {"request_id": pending.request_id, "mission": pending.mission, "mode": pending.mode,
                  "aoi": json.dumps(pending.aoi, separators=(",", ":")),  # FerretDB refuses nested arrays
                  "bbox": [minx, miny, maxx, maxy], "window_start": pending.window_start,
                  "window_end": pending.window_end}
        docs = [{"_id": f"{pending.request_id}|{key}", "tile": key, **common}
                for key in stored_keys(pending.mission, geom)]
        try:
            await self.entries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
        if await self.removals.find_one({"_id": pending.request_id}) is not None:
            await self.entries.delete_many({"request_id": pending.request_id})
            return False
        return True

    async def remove(self, request_id: str, at: datetime) -> None:
        """The request is no longer pending: a tombstone first, then its documents go."""
        try:
            await self.removals.insert_one({"_id": request_id, "removed_at": at})
        except DuplicateKeyError:
            pass
        await self.entries.delete_many({"request_id": request_id})

    async def overlapping(self, mission: str, aoi: dict[str, Any], start: datetime, end: datetime,
                          limit: int) -> list[PendingTasking]:
        """The pending taskings of ``mission`` whose window overlaps [start, end] and whose area shares
        some of ``aoi``; the largest shared area first, at most ``limit``."""
        geom = shape(aoi)
        found = await asyncio.gather(*(self.entries.find({"tile": key}, {"tile": 0}).to_list()
                                       for key in query_keys(mission, geom)))
        minx, miny, maxx, maxy = geom.bounds
        scored: dict[str, tuple[float, PendingTasking]] = {}
        for doc in _flatten(found):
            rid = doc["request_id"]
            if rid in scored or not windows_overlap(start, end, _utc(doc["window_start"]), _utc(doc["window_end"])):
                continue
            bx0, by0, bx1, by1 = doc["bbox"]
            if bx0 > maxx or bx1 < minx or by0 > maxy or by1 < miny:
                continue
            other_aoi = json.loads(doc["aoi"])
            other = shape(other_aoi)
            if not geom.intersects(other):
                continue
            scored[rid] = (area_km2(geom.intersection(other)), PendingTasking(
                request_id=rid, mission=doc["mission"], mode=doc["mode"], aoi=other_aoi,
                window_start=_utc(doc["window_start"]), window_end=_utc(doc["window_end"])))
        ranked = sorted(scored.values(), key=lambda s: (-s[0], s[1].window_start, s[1].request_id))
        return [p for _, p in ranked[:limit]]

    async def sweep(self, removed_before: datetime, ended_before: datetime) -> int:
        """Forget tombstones older than ``removed_before`` and taskings whose window ended before
        ``ended_before`` (no new window can overlap them); run rarely (not a pushed-down query)."""
        gone = await self.removals.delete_many({"removed_at": {"$lt": removed_before}})
        ended = await self.entries.delete_many({"window_end": {"$lt": ended_before}})
        return gone.deleted_count + ended.deleted_count


def _flatten(groups: Iterable[list[dict[str, Any]]]) -> Iterable[dict[str, Any]]:
    for group in groups:
        yield from group


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)
