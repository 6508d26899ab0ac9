"""Requests in MongoDB: one document per request (changes and their events in ``requests_changes``).

The AOI is kept as GeoJSON *text*: FerretDB refuses nested arrays (GeoJSON coordinates are
arrays of arrays), and spatial search is the catalogue's job (PostGIS), not this store's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore, applied_events
from pymongo import ASCENDING, DESCENDING

from requests_service.adapters.translators import outgoing
from requests_service.domain.model import SERVICE, HistoryEntry, Request, Requester, Status

_STATE = ("title", "mission", "aoi", "area_km2", "submitted_at", "status", "cell", "order_id",
          "accepted_area_km2", "fingerprint")


def to_document(r: Request) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": r.id, **{k: getattr(r, k) for k in _STATE}}
    doc["aoi"] = json.dumps(r.aoi, separators=(",", ":"))
    doc["status"] = str(r.status)
    doc["owner_id"] = r.requester.user_id
    doc["requester"] = {"user_id": r.requester.user_id, "entity_id": r.requester.entity_id,
                        "entity_category": r.requester.entity_category}
    doc["history"] = [{"status": str(h.status), "at": h.at, "note": h.note, "by": h.by} for h in r.history]
    return doc


def from_document(doc: dict[str, Any]) -> Request:
    return Request(
        id=doc["_id"],
        title=doc["title"],
        mission=doc["mission"],
        aoi=json.loads(doc["aoi"]),
        area_km2=doc["area_km2"],
        requester=Requester(**doc["requester"]),
        submitted_at=doc["submitted_at"],
        status=Status(doc["status"]),
        cell=doc.get("cell"),
        order_id=doc.get("order_id"),
        accepted_area_km2=doc.get("accepted_area_km2"),
        history=[HistoryEntry(Status(h["status"]), h["at"], h.get("note", ""), h.get("by", SERVICE))
                 for h in doc.get("history", [])],
        fingerprint=doc.get("fingerprint", ""),
        version=doc.get("version", 0),
        seen_events=applied_events(doc),
    )


class MongoRequestRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("owner_id", ASCENDING), ("submitted_at", DESCENDING)],
                                                 name="owner_id_recent")
        await self._add_owner_ids()

    async def _add_owner_ids(self) -> None:
        """Requests stored before the owner was a top-level field get it (once, at start)."""
        async for old in self.store.collection.find({"owner_id": {"$exists": False}}, {"requester": 1}):
            await self.store.collection.update_one({"_id": old["_id"], "owner_id": {"$exists": False}},
                                                   {"$set": {"owner_id": old["requester"]["user_id"]}})

    async def add(self, request: Request) -> bool:
        added = await self.store.insert(to_document(request), outgoing(request.events))
        request.events.clear()
        return added

    async def get(self, request_id: str, for_change: bool = False) -> Request | None:
        doc = await self.store.get(request_id, cached=for_change)
        return from_document(doc) if doc else None

    async def save(self, request: Request, applied_event: str | None = None) -> bool:
        doc = to_document(request)
        doc.pop("_id")
        saved = await self.store.update(request.id, request.version, doc, outgoing(request.events),
                                        applied=applied_event)
        request.events.clear()
        return saved

    async def list_for_owner(self, owner_id: str, limit: int, before: datetime | None) -> list[Request]:
        query: dict[str, Any] = {"owner_id": owner_id}  # top level: FerretDB pushes it down, not a dotted path
        if before is not None:
            query["submitted_at"] = {"$lt": before}
        cursor = self.store.collection.find(query, {"outbox": 0}).sort("submitted_at", DESCENDING).limit(limit)
        return [from_document(d) async for d in cursor]
