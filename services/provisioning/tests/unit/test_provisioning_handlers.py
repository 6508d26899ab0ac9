"""Orders recorded from the arbitration's decisions, and what is published about them."""

from __future__ import annotations

from dinamis_contracts import provisioning as contract
from provisioning_service.service_layer.handlers import RecordOrder, list_orders, record_order


def decision(request_id: str, decision: str = "accepted") -> RecordOrder:
    return RecordOrder(decision=decision, request_id=request_id, mission="spot-6-7", cell="spot-science",
                       accepted_area_km2=12.5)


async def test_an_accepted_decision_delivered_twice_records_one_order_and_announces_it_once(new_flow):
    f = new_flow(auto_confirm=False)
    await record_order(f.ctx, decision("r1"))
    await record_order(f.ctx, decision("r1"))
    assert list(f.orders.rows) == ["r1"]
    [announced] = f.orders.published
    assert (announced.topic, announced.event.type, announced.event.subject) == (
        contract.TOPIC, contract.ORDER_RECORDED, "r1")
    payload = contract.OrderRecordedV1.model_validate(announced.event.data)
    assert (payload.request_id, payload.mission, payload.cell, payload.area_km2, payload.recorded_at) == (
        "r1", "spot-6-7", "spot-science", 12.5, f.clock.now)
    assert payload.order_id == f.orders.rows["r1"].order_id
    assert f.orders.rows["r1"].status == "recorded"


async def test_the_auto_confirmation_rule_makes_the_order_due_at_once(new_flow):
    f = new_flow(auto_confirm=True)
    order = await record_order(f.ctx, decision("r1"))
    assert (order.status, order.next_check_at) == ("confirmed", f.clock.now)


async def test_a_rejection_records_nothing_and_operators_read_the_newest_first(new_flow):
    f = new_flow(auto_confirm=False)
    assert await record_order(f.ctx, decision("r0", "rejected")) is None
    for request_id in ("r1", "r2", "r3"):
        f.clock.advance(1)
        await record_order(f.ctx, decision(request_id))
    assert [o.request_id for o in await list_orders(f.ctx, 2)] == ["r3", "r2"]
    assert [o.request_id for o in await list_orders(f.ctx, 10, request_id="r1")] == ["r1"]
    assert [o.request_id for o in await list_orders(f.ctx, 10, status="placed")] == []
