"""The order aggregate: made for accepted requests only, its states and what operators may do in each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from provisioning_service.domain.model import (
    AcquisitionProgressed,
    Order,
    OrderCancelled,
    OrderFailed,
    OrderNotAllowed,
    OrderPlaced,
    OrderRecorded,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)


def recorded(decision: str = "accepted") -> Order | None:
    return Order.for_decision(decision=decision, request_id="r1", order_id="o1", mission="pleiades",
                              cell="pleiades-science", area_km2=42.0, at=NOW)


def placed(kind: str = "tasking") -> Order:
    order = recorded()
    order.confirm(NOW)
    order.placed(kind=kind, airbus_order_id="ORD-1", airbus_status="received", price_eur=Decimal("420.00"), at=NOW,
                 next_check_at=LATER)
    order.events.clear()
    return order


@pytest.mark.parametrize("decision", ["accepted", "accepted-partially"])
def test_an_accepted_request_gets_a_recorded_order_waiting_for_confirmation(decision):
    order = recorded(decision)
    assert (order.request_id, order.area_km2, order.status, order.due) == ("r1", 42.0, "recorded", False)
    assert order.events == [OrderRecorded("o1", "r1", "pleiades", "pleiades-science", 42.0, NOW)]
    assert order.allowed_actions() == ["confirm", "hold", "cancel"]


@pytest.mark.parametrize("decision", ["rejected", "information-requested"])
def test_a_request_not_accepted_gets_no_order(decision):
    assert recorded(decision) is None


def test_confirmed_it_is_due_at_once_and_placing_it_announces_airbus_order_and_price():
    order = recorded()
    order.confirm(NOW)
    assert (order.status, order.next_check_at, order.allowed_actions()) == ("confirmed", NOW, ["hold", "cancel"])
    order.placed(kind="archive", airbus_order_id="ORD-9", airbus_status="received", price_eur=Decimal("300"), at=NOW,
                 next_check_at=LATER)
    assert (order.status, order.airbus_order_id, order.next_check_at) == ("placed", "ORD-9", LATER)
    assert order.events[-1] == OrderPlaced("o1", "r1", "pleiades", "pleiades-science", "archive", "ORD-9",
                                           Decimal("300"), 42.0, NOW)


def test_a_price_mismatch_holds_it_and_confirming_accepts_the_price():
    order = recorded()
    order.confirm(NOW)
    order.price_mismatch("Airbus invoices 120 km², the quote counted 42 km²", NOW)
    assert (order.status, order.reason, order.due, order.allowed_actions()) == (
        "held", "Airbus invoices 120 km², the quote counted 42 km²", False, ["confirm", "cancel"])
    order.confirm(LATER)
    assert (order.status, order.price_accepted, order.reason) == ("confirmed", True, None)


def test_operators_hold_before_placing_but_not_after_and_the_refusal_says_why():
    order = recorded()
    order.hold("waiting for the budget", NOW)
    assert order.status == "held"
    with pytest.raises(OrderNotAllowed, match=r"held .*waiting for the budget.*cannot be held"):
        order.hold("again", NOW)
    with pytest.raises(OrderNotAllowed, match="is placed: it cannot be held"):
        placed().hold("too late", NOW)
    with pytest.raises(OrderNotAllowed, match="cannot be retried"):
        placed().retry(NOW)


def test_tracking_follows_airbus_and_each_acquisition_attempt_is_announced_once():
    order = placed()
    order.acquired(1, "cloudy", 0.0, NOW)
    order.acquired(1, "cloudy", 0.0, NOW)  # seen again: nothing new
    order.tracked("acquiring", 0.0, NOW, LATER)
    order.acquired(2, "acquired", 100.0, LATER)
    order.tracked("production", 100.0, LATER, LATER)
    assert [e.attempt for e in order.events if isinstance(e, AcquisitionProgressed)] == [1, 2]
    assert (order.status, order.coverage_percent) == ("production", 100.0)
    order.tracked("delivered", 100.0, LATER, LATER + timedelta(hours=1))
    assert (order.status, order.next_check_at) == ("delivering", LATER)


def test_polls_that_see_nothing_new_count_towards_the_backoff():
    order = placed()
    for _ in range(3):
        order.tracked("received", None, NOW, LATER)
    assert order.checks == 3  # "received" as when it was placed, three times
    order.tracked("acquiring", 10.0, NOW, LATER)
    assert order.checks == 0


def test_a_delivery_that_cannot_be_read_fails_unannounced_and_a_retry_delivers_again():
    order = placed("archive")
    order.tracked("delivered", None, NOW, LATER)
    order.delivery_failed("the package is not a readable zip", NOW)
    assert (order.status, order.events, order.allowed_actions()) == ("failed", [], ["cancel", "retry"])
    order.retry(LATER)
    assert (order.status, order.next_check_at, order.reason) == ("delivering", LATER, None)
    order.delivered(collection="pleiades", item={"id": "DS_1"}, at=LATER)
    [done] = order.events
    assert (order.status, done.delivered_km2, done.ordered_km2, done.collection) == ("delivered", 42.0, 42.0,
                                                                                     "pleiades")
    assert order.allowed_actions() == []


def test_a_tasking_delivers_the_share_of_the_area_it_covered():
    order = placed("tasking")
    order.tracked("delivered", 62.5, NOW, LATER)
    order.delivered(collection="pleiades", item={"id": "DS_2"}, at=NOW)
    assert order.events[-1].delivered_km2 == 26.25


def test_a_final_failure_is_announced_and_cannot_be_retried_or_cancelled():
    order = placed()
    order.failed("Airbus failed the order: no acquisition in the window", NOW)
    assert order.events == [OrderFailed("o1", "r1", "pleiades-science",
                                        "Airbus failed the order: no acquisition in the window", NOW)]
    assert order.allowed_actions() == []
    with pytest.raises(OrderNotAllowed, match="cannot be cancelled"):
        order.cancel("no", NOW)


def test_cancelling_is_announced_and_final():
    order = placed()
    order.cancel("the requester withdrew", NOW)
    assert order.events == [OrderCancelled("o1", "r1", "pleiades-science", "the requester withdrew", NOW)]
    assert (order.status, order.due, order.allowed_actions()) == ("cancelled", False, [])
