"""Order intents in MongoDB, ``_id`` = request id: exactly one order intent per request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore
from pymongo import DESCENDING

from provisioning_service.adapters.translators import outgoing
from provisioning_service.domain.model import OrderIntent

_FIELDS = ("request_id", "order_id", "mission", "cell", "area_km2", "recorded_at", "status")


def to_document(order: OrderIntent) -> dict[str, Any]:
    return {"_id": order.request_id, **{f: getattr(order, f) for f in _FIELDS}}


def from_document(doc: dict[str, Any]) -> OrderIntent:
    return OrderIntent(**{f: doc[f] for f in _FIELDS})


class MongoOrderRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("recorded_at", DESCENDING)], name="recent")

    async def add(self, order: OrderIntent) -> bool:
        added = await self.store.insert(to_document(order), outgoing(order.events))
        order.events.clear()
        return added

    async def list(self, limit: int, before: datetime | None = None,
                   request_id: str | None = None) -> list[OrderIntent]:
        query: dict[str, Any] = {"recorded_at": {"$lt": before}} if before is not None else {}
        if request_id is not None:
            query["_id"] = request_id  # the order intent of a request is keyed by it
        cursor = self.store.collection.find(query, dict.fromkeys(_FIELDS, 1))
        return [from_document(d) async for d in cursor.sort("recorded_at", DESCENDING).limit(limit)]
