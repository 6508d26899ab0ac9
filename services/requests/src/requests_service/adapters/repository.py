"""Requests in MongoDB: one document per request (changes and their events in ``requests_changes``).

The AOI (and each archive scene's) is kept as GeoJSON *text*: FerretDB refuses nested arrays
(GeoJSON coordinates are arrays of arrays), and spatial search is the catalogue's job (PostGIS), not
this store's. The frozen quote is kept as its wire form (``QuoteV1``: money as a decimal string,
FerretDB refuses Decimal128). ``owner_id``, ``entity_id`` and ``cell`` are top-level fields: the
lists query them by equality, which FerretDB pushes down (a dotted path it does not).

A document stored before issue 10 has no kind, scenes, tasking or quote: it reads as a tasking
request without them.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore, applied_events
from dinamis_contracts.requests import QuoteV1
from pymongo import ASCENDING, DESCENDING

from requests_service.adapters.translators import outgoing, quote_v1
from requests_service.domain.access import Listing
from requests_service.domain.model import EXPIRABLE, SERVICE, HistoryEntry, Request, Requester, Status
from requests_service.domain.quote import DeliveredOffer, JoinOffer, Offers, Quote
from requests_service.domain.spec import Scene, Tasking

_STATE = ("title", "mission", "aoi", "area_km2", "submitted_at", "status", "cell", "order_id",
          "accepted_area_km2", "coverage_percent", "delivered_item", "fingerprint", "kind", "justification",
          "funding_reference", "priority")
_TASKING = ("window_start", "window_end", "max_cloud_cover", "max_incidence_angle", "mode", "priority")


def _text(geojson: dict[str, Any]) -> str:
    return json.dumps(geojson, separators=(",", ":"))


def quote_from(doc: dict[str, Any]) -> Quote:
    q = QuoteV1.model_validate(doc)
    return Quote(
        area_km2=q.area_km2, free_km2=q.free_km2, over_quota_km2=q.over_quota_km2, billed_km2=q.billed_km2,
        price_eur=Decimal(q.price_eur), payer=q.payer, basis=q.basis,  # type: ignore[arg-type]
        invoicing_minimum_km2=q.invoicing_minimum_km2, cell=q.cell, period=q.period, quoted_at=q.quoted_at,
        valid_until=q.valid_until, package_id=q.package_id,
        offers=Offers(
            delivered=tuple(DeliveredOffer(o.item_id, o.collection, o.acquired_at, o.coverage, o.cloud_cover,
                                           o.incidence_angle) for o in q.delivered_offers),
            join=tuple(JoinOffer(o.request_id, o.overlap_km2, o.window_start, o.window_end, o.mode)
                       for o in q.join_offers)))


def to_document(r: Request) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": r.id, **{k: getattr(r, k) for k in _STATE}}
    doc["aoi"] = _text(r.aoi)
    doc["status"] = str(r.status)
    doc["owner_id"] = r.requester.user_id
    doc["entity_id"] = r.requester.entity_id
    doc["expires_at"] = r.expires_at if r.status in EXPIRABLE else None  # what the expiry sweep looks for
    doc["scenes"] = [{"item_id": s.item_id, "aoi": _text(s.aoi), "area_km2": s.area_km2, "acquired_at": s.acquired_at,
                      "platform": s.platform} for s in r.scenes]
    doc["tasking"] = {k: getattr(r.tasking, k) for k in _TASKING} if r.tasking else None
    doc["quote"] = quote_v1(r.quote).model_dump(mode="python") if r.quote else None
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
        kind=doc.get("kind") or "tasking",
        justification=doc.get("justification") or "",
        funding_reference=doc.get("funding_reference"),
        scenes=tuple(Scene(s["item_id"], json.loads(s["aoi"]), s["area_km2"], s.get("acquired_at"), s.get("platform"))
                     for s in doc.get("scenes") or ()),
        tasking=Tasking(**{k: doc["tasking"][k] for k in _TASKING}) if doc.get("tasking") else None,
        priority=doc.get("priority") or "standard",
        quote=quote_from(doc["quote"]) if doc.get("quote") else None,
        status=Status(doc["status"]),
        cell=doc.get("cell"),
        order_id=doc.get("order_id"),
        accepted_area_km2=doc.get("accepted_area_km2"),
        coverage_percent=doc.get("coverage_percent"),
        delivered_item=doc.get("delivered_item"),
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
        await self.store.collection.create_index([("expires_at", ASCENDING)], name="expires_at")
        for key in ("owner_id", "entity_id", "cell"):
            await self.store.collection.create_index(
                [(key, ASCENDING), ("submitted_at", DESCENDING), ("_id", DESCENDING)], name=f"{key}_newest")
        existing = {index["name"] async for index in await self.store.collection.list_indexes()}
        for old in {f"{key}_recent" for key in ("owner_id", "entity_id", "cell")} & existing:
            await self.store.collection.drop_index(old)  # without the id's tie-break (before 2026-11-30)
        await self._add_top_level("owner_id", "user_id")
        await self._add_top_level("entity_id", "entity_id")
        await self._add_expiry()

    async def _add_expiry(self) -> None:
        """Requests stored before they could expire get ``expires_at`` (once, at start): the end of a
        tasking's window while it is not ordered yet, else none."""
        async for old in self.store.collection.find({"expires_at": {"$exists": False}}, {"status": 1, "tasking": 1}):
            window_end = (old.get("tasking") or {}).get("window_end")
            expires = window_end if old.get("status") in EXPIRABLE and window_end else None
            await self.store.collection.update_one({"_id": old["_id"], "expires_at": {"$exists": False}},
                                                   {"$set": {"expires_at": expires}})

    async def _add_top_level(self, field: str, of_requester: str) -> None:
        """Requests stored before ``field`` was a top-level copy of the requester's get it (once, at start)."""
        async for old in self.store.collection.find({field: {"$exists": False}}, {"requester": 1}):
            await self.store.collection.update_one({"_id": old["_id"], field: {"$exists": False}},
                                                   {"$set": {field: old["requester"].get(of_requester)}})

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

    async def overdue(self, now: datetime, limit: int) -> list[Request]:
        # ``expires_at`` is set only while the request can still expire: one range on one field
        cursor = self.store.collection.find({"expires_at": {"$lt": now}}, {"outbox": 0}).limit(limit)
        return [from_document(d) async for d in cursor]

    async def list_for(self, listing: Listing, limit: int, before: datetime | None) -> list[Request]:
        # top-level equality: FerretDB pushes it down (not a dotted path)
        query: dict[str, Any] = {}
        if listing.owner_id is not None:
            query["owner_id"] = listing.owner_id
        elif listing.entity_id is not None:
            query["entity_id"] = listing.entity_id
        elif listing.cells:
            query["cell"] = listing.cells[0] if len(listing.cells) == 1 else {"$in": list(listing.cells)}
        elif not listing.everything:
            return []
        if before is not None:
            query["submitted_at"] = {"$lt": before}
        # the id breaks ties (requests submitted in the same millisecond): the same order on every read
        cursor = self.store.collection.find(query, {"outbox": 0}).sort(
            [("submitted_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [from_document(d) async for d in cursor]
