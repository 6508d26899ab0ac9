"""Orders in MongoDB, ``_id`` = request id: exactly one order per request. Each change replaces the
order's state with its events in one write (``AggregateStore``: a claim per version, so two replicas'
workers never both apply a step)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore
from pymongo import ASCENDING, DESCENDING

from provisioning_service.adapters.translators import outgoing
from provisioning_service.domain.model import Order

_FIELDS = tuple(f.name for f in fields(Order) if f.name not in ("version", "events"))
_DEFAULTS = {f.name: f.default for f in fields(Order) if f.name in _FIELDS}


def to_document(order: Order) -> dict[str, Any]:
    return {"_id": order.request_id, **{f: getattr(order, f) for f in _FIELDS}, "active": order.due}


def from_document(doc: dict[str, Any]) -> Order:
    values = {f: doc.get(f, _DEFAULTS[f]) for f in _FIELDS}
    if doc.get("status") == "intent":  # recorded before the flow existed
        values["status"] = "recorded"
    return Order(**values, version=doc.get("version", 1))


class MongoOrderRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("recorded_at", DESCENDING)], name="recent")
        await self.store.collection.create_index([("order_id", ASCENDING)], name="order_id")
        await self.store.collection.create_index([("active", ASCENDING), ("next_check_at", ASCENDING)], name="due")

    async def add(self, order: Order) -> bool:
        added = await self.store.insert(to_document(order), outgoing(order.events))
        order.events.clear()
        if added:
            order.version = 1
        return added

    async def get(self, request_id: str) -> Order | None:
        doc = await self.store.get(request_id)
        return from_document(doc) if doc is not None else None

    async def find(self, order_or_request_id: str) -> Order | None:
        doc = await self.store.collection.find_one({"order_id": order_or_request_id})
        if doc is None:
            doc = await self.store.collection.find_one({"_id": order_or_request_id})
        return from_document(doc) if doc is not None else None

    async def save(self, order: Order) -> bool:
        state = to_document(order)
        del state["_id"]
        saved = await self.store.update(order.request_id, order.version, state, outgoing(order.events))
        order.events.clear()
        if saved:
            order.version += 1
        return saved

    async def due(self, now: datetime, limit: int) -> list[Order]:
        cursor = self.store.collection.find({"active": True, "next_check_at": {"$lte": now}})
        docs = await cursor.sort("next_check_at", ASCENDING).limit(limit).to_list()
        return [from_document(d) for d in docs]

    async def list(self, limit: int, before: datetime | None = None, request_id: str | None = None,
                   status: str | None = None) -> list[Order]:
        query: dict[str, Any] = {"recorded_at": {"$lt": before}} if before is not None else {}
        if request_id is not None:
            query["_id"] = request_id  # the order of a request is keyed by it
        if status is not None:
            query["status"] = status
        cursor = self.store.collection.find(query)
        return [from_document(d) async for d in cursor.sort("recorded_at", DESCENDING).limit(limit)]
