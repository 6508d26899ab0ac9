"""Order intents are made for accepted requests only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from provisioning_service.domain.model import OrderIntent, OrderRecorded

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def intent(decision: str) -> OrderIntent | None:
    return OrderIntent.for_decision(decision=decision, request_id="r1", order_id="o1", mission="pleiades",
                                    cell="pleiades-science", area_km2=42.0, at=NOW)


@pytest.mark.parametrize("decision", ["accepted", "accepted-partially"])
def test_an_accepted_request_gets_an_order_intent(decision):
    order = intent(decision)
    assert (order.request_id, order.area_km2, order.status) == ("r1", 42.0, "intent")
    assert order.events == [OrderRecorded("o1", "r1", "pleiades", "pleiades-science", 42.0, NOW)]


@pytest.mark.parametrize("decision", ["rejected", "information-requested"])
def test_a_request_not_accepted_gets_no_order(decision):
    assert intent(decision) is None
