"""On the real Kafka and FerretDB: a decision delivered twice makes one order (``recorded``: no
auto-confirmation here), which the operators read at ``GET /api/provisioning/orders`` and which is
announced with the data of what happened; a rejection orders nothing; a plain user may not read the orders."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration
from dinamis_testkit.polling import until

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)


def decision(request_id: str, verdict: str) -> CloudEvent:
    payload = arbitration.DecisionRecordedV1(
        case_id=request_id, request_id=request_id, cell="spot-science", mission="spot-6-7", decision=verdict,
        reason="within the programme", decided_by="arbiter-1", decided_at=NOW, accepted_area_km2=12.5)
    return CloudEvent(type=arbitration.DECISION_RECORDED, source=arbitration.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


async def test_an_accepted_request_gets_one_order_that_operators_see_and_that_is_announced(service):
    accepted, rejected = f"req-{uuid.uuid4().hex[:8]}", f"req-{uuid.uuid4().hex[:8]}"
    for event in (decision(accepted, "accepted"), decision(rejected, "rejected"), decision(accepted, "accepted")):
        await service.upstream.publish(event)  # as the arbitration relay does
    async with service.client(roles=["operator"]) as operator:
        async def orders_of(request_id: str) -> list[dict]:
            return (await operator.get("/api/provisioning/orders", params={"request_id": request_id})).json()["items"]

        [order] = await until(lambda: orders_of(accepted))
        assert (order["mission"], order["cell"], order["area_km2"], order["status"]) == (
            "spot-6-7", "spot-science", 12.5, "recorded")
        assert (await operator.get("/api/provisioning/orders", params={"request_id": rejected})).json() == {
            "items": [], "next_before": None}
    async with service.client(roles=["user"]) as user:
        refused = await user.get("/api/provisioning/orders")
    assert refused.status_code == 403

    announced = []
    async with asyncio.timeout(20):
        async for record in service.published:
            announced.append(json.loads(record.value))
            if announced[-1]["request_id"] == accepted:
                break
    assert announced[-1] == {"order_id": order["order_id"], "request_id": accepted, "mission": "spot-6-7",
                             "cell": "spot-science", "area_km2": 12.5, "recorded_at": order["recorded_at"]}
    later = await service.published.getmany(timeout_ms=1000)  # the second delivery announced nothing
    assert all(json.loads(r.value)["request_id"] != accepted for records in later.values() for r in records)


async def test_operators_hold_confirm_and_cancel_an_order_and_are_told_why_when_they_may_not(service):
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    await service.upstream.publish(decision(request_id, "accepted"))
    async with service.client(roles=["operator"]) as operator:
        async def order() -> dict:
            items = (await operator.get("/api/provisioning/orders", params={"request_id": request_id})).json()["items"]
            return items[0] if items else {}

        order_id = (await until(order))["order_id"]
        held = await operator.post(f"/api/provisioning/orders/{order_id}/hold", json={"reason": "budget review"})
        assert (held.status_code, held.json()["status"], held.json()["reason"], held.json()["actions"]) == (
            200, "held", "budget review", ["confirm", "cancel"])
        again = await operator.post(f"/api/provisioning/orders/{order_id}/hold")
        assert again.status_code == 409 and "is held (budget review): it cannot be held" in again.text
        confirmed = await operator.post(f"/api/provisioning/orders/{order_id}/confirm")
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
        # the worker waits for the request's details (never submitted here): still cancellable
        cancelled = await operator.post(f"/api/provisioning/orders/{order_id}/cancel",
                                        json={"reason": "the requester withdrew"})
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
        late = await operator.post(f"/api/provisioning/orders/{order_id}/retry")
        assert late.status_code == 409 and "is cancelled" in late.text
        listed = (await operator.get("/api/provisioning/orders", params={"status": "cancelled"})).json()["items"]
        assert order_id in [o["order_id"] for o in listed]
        missing = await operator.post("/api/provisioning/orders/no-such-order/confirm")
        assert missing.status_code == 404
    async with service.client(roles=["user"]) as user:
        assert (await user.post(f"/api/provisioning/orders/{order_id}/confirm")).status_code == 403

    async with asyncio.timeout(20):
        async for record in service.published:
            event = json.loads(record.value)
            if event["request_id"] == request_id and "cancelled_at" in event:
                break
    assert (event["order_id"], event["reason"]) == (order_id, "the requester withdrew")
