"""Order intents recorded from the arbitration's decisions, and what is published about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from dinamis_contracts import provisioning as contract
from provisioning_service.adapters.translators import outgoing
from provisioning_service.domain.model import OrderIntent
from provisioning_service.service_layer.context import Provisioning
from provisioning_service.service_layer.handlers import RecordOrder, list_orders, record_order

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class InMemoryOrders:
    def __init__(self) -> None:
        self.rows: dict[str, OrderIntent] = {}
        self.published: list = []

    async def add(self, order: OrderIntent) -> bool:
        if order.request_id in self.rows:
            return False
        self.published += outgoing(order.events)
        order.events.clear()
        self.rows[order.request_id] = order
        return True

    async def list(self, limit, before=None, request_id=None):
        found = [o for o in self.rows.values() if (before is None or o.recorded_at < before)
                 and (request_id is None or o.request_id == request_id)]
        return sorted(found, key=lambda o: o.recorded_at, reverse=True)[:limit]


def context() -> Provisioning:
    ticks, ids = count(), count(1)
    return Provisioning(InMemoryOrders(), clock=lambda: NOW + timedelta(seconds=next(ticks)),
                        new_id=lambda: f"o{next(ids)}")


def decision(request_id: str, decision: str = "accepted") -> RecordOrder:
    return RecordOrder(decision=decision, request_id=request_id, mission="spot-6-7", cell="spot-science",
                       accepted_area_km2=12.5)


async def test_an_accepted_decision_delivered_twice_records_one_order_and_announces_it_once():
    ctx = context()
    await record_order(ctx, decision("r1"))
    await record_order(ctx, decision("r1"))
    assert list(ctx.orders.rows) == ["r1"]
    [announced] = ctx.orders.published
    assert (announced.topic, announced.event.type, announced.event.subject) == (
        contract.TOPIC, contract.ORDER_RECORDED, "r1")
    payload = contract.OrderRecordedV1.model_validate(announced.event.data)
    assert (payload.request_id, payload.mission, payload.cell, payload.area_km2, payload.recorded_at) == (
        "r1", "spot-6-7", "spot-science", 12.5, NOW)
    assert payload.order_id == ctx.orders.rows["r1"].order_id


async def test_a_rejection_records_nothing_and_operators_read_the_newest_first():
    ctx = context()
    assert await record_order(ctx, decision("r0", "rejected")) is None
    for request_id in ("r1", "r2", "r3"):
        await record_order(ctx, decision(request_id))
    assert [o.request_id for o in await list_orders(ctx, 2)] == ["r3", "r2"]
    assert [o.request_id for o in await list_orders(ctx, 10, request_id="r1")] == ["r1"]
