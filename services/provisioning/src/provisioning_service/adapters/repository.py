"""Order intents in MongoDB, ``_id`` = request id: exactly one order intent per request."""

from __future__ import annotations

from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore, Outgoing
from dinamis_contracts import provisioning as contract
from pymongo import DESCENDING

from provisioning_service.domain.model import OrderIntent, OrderRecorded


def outgoing(order: OrderIntent) -> list[Outgoing]:
    return [
        Outgoing(contract.TOPIC, CloudEvent(
            type=contract.ORDER_RECORDED, source=contract.SOURCE, subject=order.request_id,
            data=contract.OrderRecordedV1(order_id=order.order_id, request_id=order.request_id,
                                          mission=order.mission, area_km2=order.area_km2,
                                          recorded_at=order.recorded_at).model_dump(mode="json")))
        for event in order.events if isinstance(event, OrderRecorded)
    ]


class MongoOrderRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("recorded_at", DESCENDING)], name="recent")

    async def add(self, order: OrderIntent) -> bool:
        doc = {"_id": order.request_id, "request_id": order.request_id, "order_id": order.order_id,
               "mission": order.mission, "cell": order.cell, "area_km2": order.area_km2,
               "recorded_at": order.recorded_at, "status": order.status}
        added = await self.store.insert(doc, outgoing(order))
        order.events.clear()
        return added

    async def list(self, limit: int, before: Any = None, request_id: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"recorded_at": {"$lt": before}} if before is not None else {}
        if request_id is not None:
            query["_id"] = request_id  # the order intent of a request is keyed by it
        cursor = self.store.collection.find(query, {"outbox": 0, "applied_events": 0, "outbox_pending": 0})
        return await cursor.sort("recorded_at", DESCENDING).limit(limit).to_list()
