"""The order flow driven by the worker, on the test kit's FakeAirbus and an in-memory object store: an
accepted request placed (after feasibility and the price check), tracked, delivered into the object store
and announced as a STAC item; and what goes wrong: refusals, a price above the quote, Airbus unavailable,
a crash after placing, a package that cannot be read; operators' actions and Airbus's notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dinamis_contracts import provisioning as contract
from provisioning_service.domain.model import OrderNotAllowed
from provisioning_service.service_layer import flow as worker
from provisioning_service.service_layer import handlers
from provisioning_service.service_layer.airbus_port import AirbusError
from provisioning_service.service_layer.handlers import RecordOrder


def decision(request_id: str, mission: str = "pleiades", area: float = 30.0) -> RecordOrder:
    return RecordOrder(decision="accepted", request_id=request_id, mission=mission, cell=f"{mission}-science",
                       accepted_area_km2=area)


async def rounds(f, n: int = 1, seconds: float = 0) -> None:
    for _ in range(n):
        f.clock.advance(seconds)
        await worker.run_due(f.ctx)


def payloads(f, kind: str) -> list[dict]:
    return [e.data for e in f.orders.events(kind)]


async def order_of(f, request_id: str):
    return await f.orders.get(request_id)


async def test_an_archive_order_is_placed_once_tracked_and_delivered_into_the_store_as_a_stac_item(flow):
    flow.archive("r1")
    await handlers.record_order(flow.ctx, decision("r1"))
    await rounds(flow)
    order = await order_of(flow, "r1")
    [airbus_id] = flow.airbus.orders
    assert (order.status, order.airbus_order_id, dict(flow.airbus.created)) == ("placed", airbus_id, {"r1": 1})
    assert flow.airbus.bodies[airbus_id]["items"][0]["scene_id"] == "PHR1A_202605011030"
    [placed] = payloads(flow, contract.ORDER_PLACED)
    assert (placed["kind"], placed["airbus_order_id"], placed["price_eur"]) == ("archive", airbus_id, "300.00")

    await rounds(flow, 3, seconds=60)  # nothing new at Airbus: polled again, placed only once
    flow.airbus.advance(airbus_id, "production")
    await rounds(flow, seconds=60)
    assert (await order_of(flow, "r1")).status == "production"
    flow.airbus.advance(airbus_id, "delivered")
    await rounds(flow, 2, seconds=60)

    order = await order_of(flow, "r1")
    assert (order.status, order.delivered_km2) == ("delivered", 30.0)
    assert sorted(flow.store.objects) == ["s3://deliveries/pleiades/r1/DIM_PHR_ORD-1.XML",
                                          "s3://deliveries/pleiades/r1/IMG_PHR_ORD-1.tif",
                                          "s3://deliveries/pleiades/r1/PREVIEW_PHR_ORD-1.png"]
    [done] = payloads(flow, contract.DELIVERY_COMPLETED)
    item = done["item"]
    assert (done["collection"], done["mission"], done["ordered_km2"], done["delivered_km2"]) == (
        "pleiades", "pleiades", 30.0, 30.0)
    assert item["properties"]["dinamis:request_id"] == "r1"
    assert item["properties"]["platform"] == "pleiades-1a"
    assert {a["href"] for a in item["assets"].values()} == set(flow.store.objects)
    assert order.item_id == item["id"]
    assert dict(flow.airbus.created) == {"r1": 1}


async def test_a_tasking_is_checked_for_feasibility_and_each_acquisition_attempt_is_announced_once(flow):
    flow.tasking("t1")
    await handlers.record_order(flow.ctx, decision("t1", area=120.0))
    await rounds(flow)
    [airbus_id] = flow.airbus.orders
    assert flow.airbus.calls[:3] == ["find_order", "feasibility", "price"]
    assert flow.airbus.bodies[airbus_id]["feasibility_id"].startswith("FEA-")
    flow.airbus.acquire(airbus_id, outcome="cloudy", coverage_percent=55.0)
    await rounds(flow, 2, seconds=60)
    flow.airbus.acquire(airbus_id, outcome="acquired", coverage_percent=80.0)
    await rounds(flow, 2, seconds=60)
    attempts = [(p["attempt"], p["outcome"], p["coverage_percent"])
                for p in payloads(flow, contract.ACQUISITION_PROGRESSED)]
    assert attempts == [(1, "cloudy", 55.0), (2, "acquired", 80.0)]
    assert (await order_of(flow, "t1")).status == "acquiring"
    flow.airbus.advance(airbus_id, "delivered")
    await rounds(flow, 2, seconds=60)
    [done] = payloads(flow, contract.DELIVERY_COMPLETED)
    assert (done["ordered_km2"], done["delivered_km2"]) == (120.0, 96.0)


async def test_an_infeasible_tasking_fails_for_good_with_airbus_reason(new_flow):
    f = new_flow(feasible=False)
    f.tasking("t2")
    await handlers.record_order(f.ctx, decision("t2"))
    await rounds(f)
    order = await order_of(f, "t2")
    assert (order.status, order.allowed_actions(), f.airbus.orders) == ("failed", [], {})
    [failed] = payloads(f, contract.ORDER_FAILED)
    assert failed["reason"] == "Airbus: the tasking is not feasible (the window cannot be acquired)"


async def test_a_price_above_the_quote_holds_the_order_until_an_operator_confirms_it(flow):
    # the requester pays the cost price of 30 km² at 5 EUR/km²; Airbus asks 10 EUR/km²
    flow.archive("r2", q=flow.quote(30.0, billed=30.0, price="150.00", payer="entity"))
    await handlers.record_order(flow.ctx, decision("r2"))
    await rounds(flow)
    order = await order_of(flow, "r2")
    assert (order.status, flow.airbus.orders) == ("held", {})
    assert order.reason == ("Airbus's price for the 30 km² billed is 300.00 EUR, the quote said 150.00 EUR "
                            "(tolerance 5%)")
    await handlers.confirm(flow.ctx, order.order_id)
    await rounds(flow)
    assert (await order_of(flow, "r2")).status == "placed"
    assert flow.airbus.calls.count("price") == 2  # the check, then the order's own price


async def test_more_km2_invoiced_than_quoted_is_held_too(new_flow):
    f = new_flow(area_km2=60.0)
    f.archive("r3")
    await handlers.record_order(f.ctx, decision("r3"))
    await rounds(f)
    order = await order_of(f, "r3")
    assert (order.status, order.reason) == ("held", "Airbus invoices 60 km², the quote counted 30 km² (tolerance 5%)")


async def test_an_order_waits_for_its_request_details_then_is_placed(flow):
    await handlers.record_order(flow.ctx, decision("r4"))
    await rounds(flow)
    order = await order_of(flow, "r4")
    assert (order.status, order.reason, flow.airbus.orders) == ("confirmed", "waiting for the request's details", {})
    flow.archive("r4")
    await rounds(flow, seconds=30)
    assert (await order_of(flow, "r4")).status == "placed"


async def test_airbus_unavailable_is_tried_again_later_with_backoff(flow):
    flow.archive("r5")
    flow.airbus.fail_next("place_order", reason="503 unavailable", times=2)
    await handlers.record_order(flow.ctx, decision("r5"))
    await rounds(flow)
    first = await order_of(flow, "r5")
    assert (first.status, first.reason) == ("confirmed", "Airbus unavailable, trying again: 503 unavailable")
    await rounds(flow)  # not due yet: nothing tried
    assert flow.airbus.calls.count("place_order") == 1
    await rounds(flow, seconds=10)
    second = await order_of(flow, "r5")
    assert (first.next_check_at - first.updated_at, second.next_check_at - second.updated_at) == (
        timedelta(seconds=10), timedelta(seconds=20))
    await rounds(flow, seconds=60)
    assert (await order_of(flow, "r5")).status == "placed"
    assert dict(flow.airbus.created) == {"r5": 1}


async def test_an_order_placed_by_a_run_that_died_before_recording_it_is_found_not_placed_again(flow):
    request = flow.archive("r6")
    await handlers.record_order(flow.ctx, decision("r6"))
    sent = await flow.airbus.place_order(request.order_body())  # the run that was killed after sending
    await rounds(flow)
    order = await order_of(flow, "r6")
    assert (order.status, order.airbus_order_id, dict(flow.airbus.created)) == ("placed", sent.id, {"r6": 1})
    assert flow.airbus.calls == ["place_order", "price", "find_order"]  # found by its reference, no more


@pytest.mark.parametrize(("package", "reason"), [
    ({"corrupt": True},
     "the delivered package cannot be read: the package is not a readable zip: File is not a zip file"),
    ({"without": ("IMG_",)}, "the delivered package cannot be read: the package has no image file"),
])
async def test_a_package_that_cannot_be_read_fails_unannounced_stores_nothing_and_an_operator_retries(
        new_flow, make_package, package, reason):
    f = new_flow(package=make_package(**package))
    f.archive("r7")
    await handlers.record_order(f.ctx, decision("r7"))
    await rounds(f)
    f.airbus.advance(next(iter(f.airbus.orders)), "delivered")
    await rounds(f, 2, seconds=60)
    order = await order_of(f, "r7")
    assert (order.status, order.reason, order.allowed_actions()) == ("failed", reason, ["cancel", "retry"])
    assert (f.store.objects, payloads(f, contract.DELIVERY_COMPLETED), payloads(f, contract.ORDER_FAILED)) == (
        {}, [], [])
    f.airbus.package = make_package()  # Airbus fixed its package
    await handlers.retry(f.ctx, order.order_id)
    await rounds(f)
    assert (await order_of(f, "r7")).status == "delivered"
    assert len(payloads(f, contract.DELIVERY_COMPLETED)) == 1


async def test_a_dimap_without_its_acquisition_time_or_footprint_names_what_is_missing(new_flow, make_package,
                                                                                      make_dimap):
    f = new_flow(package=make_package(make_dimap(drop=("TIME", "Dataset_Extent"))))
    f.archive("r8")
    await handlers.record_order(f.ctx, decision("r8"))
    await rounds(f)
    f.airbus.advance(next(iter(f.airbus.orders)), "delivered")
    await rounds(f, 2, seconds=60)
    order = await order_of(f, "r8")
    assert order.reason == ("the delivered package cannot be read: the DIMAP metadata lacks TIME (acquisition), "
                            "Dataset_Extent (footprint vertices)")
    assert f.store.objects == {}


async def test_a_delivery_done_again_after_a_crash_overwrites_the_same_objects(flow):
    flow.archive("r9")
    await handlers.record_order(flow.ctx, decision("r9"))
    await rounds(flow)
    flow.airbus.advance(next(iter(flow.airbus.orders)), "delivered")
    await rounds(flow, seconds=60)
    killed = await order_of(flow, "r9")
    assert killed.status == "delivering"
    await worker.step(flow.ctx, await order_of(flow, "r9"))  # stored, announced...
    flow.orders.rows["r9"] = killed  # ...and the process died before that write counted: done again
    flow.orders.published.clear()
    await rounds(flow)
    assert (flow.store.puts, len(flow.store.objects)) == (6, 3)
    assert len(payloads(flow, contract.DELIVERY_COMPLETED)) == 1


async def test_without_auto_confirmation_an_operator_confirms_and_cannot_hold_a_placed_order(new_flow):
    f = new_flow(auto_confirm=False)
    f.archive("r10")
    order = await handlers.record_order(f.ctx, decision("r10"))
    await rounds(f)
    assert ((await order_of(f, "r10")).status, f.airbus.calls) == ("recorded", [])
    await handlers.confirm(f.ctx, order.order_id)
    await rounds(f)
    with pytest.raises(OrderNotAllowed, match="is placed: it cannot be held"):
        await handlers.hold(f.ctx, order.order_id, "wait")


async def test_an_operator_cancels_a_placed_order_at_airbus_too_and_it_is_announced(flow):
    flow.archive("r11")
    order = await handlers.record_order(flow.ctx, decision("r11"))
    await rounds(flow)
    cancelled = await handlers.cancel(flow.ctx, order.order_id, "the requester withdrew")
    assert (cancelled.status, flow.airbus.orders[cancelled.airbus_order_id].status) == ("cancelled", "cancelled")
    [event] = payloads(flow, contract.ORDER_CANCELLED)
    assert event["reason"] == "the requester withdrew"
    await rounds(flow, seconds=600)
    assert (await order_of(flow, "r11")).status == "cancelled"


async def test_a_notification_makes_the_order_due_now(flow):
    flow.archive("r12")
    await handlers.record_order(flow.ctx, decision("r12"))
    await rounds(flow)
    order = await order_of(flow, "r12")
    assert order.next_check_at > flow.clock.now
    flow.airbus.advance(order.airbus_order_id, "production")
    assert await handlers.notified(flow.ctx, customer_reference="r12", airbus_order_id=order.airbus_order_id)
    assert not await handlers.notified(flow.ctx, customer_reference="unknown", airbus_order_id=None)
    await rounds(flow)
    assert (await order_of(flow, "r12")).status == "production"


async def test_a_request_airbus_cannot_take_fails_with_the_reason_and_nothing_is_sent(flow):
    request = flow.archive("r13")
    flow.submitted(type(request)(**{**request.__dict__, "scenes": ()}))
    await handlers.record_order(flow.ctx, decision("r13"))
    await rounds(flow)
    order = await order_of(flow, "r13")
    assert (order.status, order.reason, flow.airbus.calls) == (
        "failed", "the request cannot be ordered: request r13: an archive order takes 1 to 5 scenes, not 0", [])
    [failed] = payloads(flow, contract.ORDER_FAILED)
    assert failed["reason"] == order.reason


async def test_an_expired_feasibility_is_asked_again_before_placing(new_flow):
    f = new_flow()
    f.tasking("t3", q=f.quote(30.0, billed=100.0, price="100.00", payer="entity", minimum=100.0))
    await handlers.record_order(f.ctx, decision("t3"))
    await rounds(f)  # feasible, then held: Airbus asks 10 EUR/km², the quote 1 EUR/km²
    held = await order_of(f, "t3")
    assert (held.status, held.feasibility_id, f.airbus.calls.count("feasibility")) == ("held", "FEA-1", 1)
    assert held.feasibility_expires_at is not None
    f.clock.now = held.feasibility_expires_at + timedelta(hours=1)  # the operator confirms too late
    await handlers.confirm(f.ctx, held.order_id)
    await rounds(f)
    placed = await order_of(f, "t3")
    assert (placed.status, placed.feasibility_id, f.airbus.calls.count("feasibility")) == ("placed", "FEA-2", 2)


async def test_an_order_cancelled_while_the_worker_placed_it_is_cancelled_at_airbus_too(flow):
    flow.archive("r14")
    order = await handlers.record_order(flow.ctx, decision("r14"))
    stepping = await order_of(flow, "r14")  # the worker read it...
    await handlers.cancel(flow.ctx, order.order_id, "not needed any more")  # ...an operator cancelled it...
    assert not await worker.step(flow.ctx, stepping)  # ...and the worker's placing lost the race
    [airbus_order] = flow.airbus.orders.values()
    assert (airbus_order.status, (await order_of(flow, "r14")).status) == ("cancelled", "cancelled")
    assert payloads(flow, contract.ORDER_PLACED) == []


async def test_refused_credentials_and_unexpected_failures_postpone_the_order_with_the_reason(flow):
    flow.archive("r15")
    await handlers.record_order(flow.ctx, decision("r15"))
    found = flow.airbus.find_order

    async def refused(*_args, **_kw):
        raise AirbusError("401 unknown API key", transient=False, status=401)

    flow.airbus.find_order = refused
    await rounds(flow)
    order = await order_of(flow, "r15")
    assert (order.status, order.reason) == ("confirmed", "Airbus unavailable, trying again: 401 unknown API key")

    async def broken(*_args, **_kw):
        raise RuntimeError("a bug")

    flow.airbus.find_order = broken
    await rounds(flow, seconds=60)
    order = await order_of(flow, "r15")
    assert (order.status, order.reason) == ("confirmed", "trying again after: RuntimeError: a bug")
    assert order.next_check_at > flow.clock.now
    flow.airbus.find_order = found
    await rounds(flow, seconds=120)
    assert (await order_of(flow, "r15")).status == "placed"
