"""The quota use cases and consumers on an in-memory repository: a hold per accepted decision
(once, whatever the deliveries), a release per cancellation or expiry (also when it overtakes the
acceptance), commits within the hold, and the burn-down of the current period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arbitration_service.domain.ledger import ExceedsHold, QuotaExceeded
from arbitration_service.entrypoints.consumers import ledger as consumers
from arbitration_service.service_layer import quotas
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning, requests

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def status_changed(request_id: str, status: str, previous: str = "accepted") -> CloudEvent:
    data = requests.RequestStatusChangedV1(request_id=request_id, status=status, previous_status=previous,
                                           cell="pleiades-science", changed_at=NOW)
    return CloudEvent(type=requests.REQUEST_STATUS_CHANGED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


def cancelled(request_id: str) -> CloudEvent:
    data = requests.RequestCancelledV1(request_id=request_id, reason="no longer needed", cancelled_by="u-1",
                                       cancelled_at=NOW)
    return CloudEvent(type=requests.REQUEST_CANCELLED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def deliver(handler, event: CloudEvent) -> None:
    await handler(event)


async def test_acceptances_hold_once_and_cancellations_release(q):
    releases = consumers.releases(q)
    for case, km2 in (("r1", 300), ("r2", 200.5)):
        await quotas.hold(q, quotas.HoldQuota(case, "pleiades-science", "pleiades", km2, NOW))
        await quotas.hold(q, quotas.HoldQuota(case, "pleiades-science", "pleiades", km2, NOW))  # asked twice
    b = (await quotas.burndown(q, "pleiades-science")).balances
    assert (b.held_m2, b.remaining_m2) == (500_500_000, 499_500_000)
    await deliver(releases, cancelled("r2"))
    await deliver(releases, cancelled("r9"))  # a request cancelled before any decision: nothing held
    burndown = await quotas.burndown(q, "pleiades-science")
    assert burndown.period.label == "2026-Q2"
    assert burndown.balances.km2() == {"budget_km2": 1000.0, "held_km2": 300.0, "committed_km2": 0.0,
                                       "released_km2": 200.5, "remaining_km2": 700.0}
    assert [(e.kind, e.case_id) for e in q.ledgers.published] == [("hold", "r1"), ("hold", "r2"), ("release", "r2")]


async def test_a_cancellation_that_overtakes_the_acceptance_leaves_nothing_held(q):
    await deliver(consumers.releases(q), cancelled("r1"))
    assert await quotas.hold(q, quotas.HoldQuota("r1", "pleiades-science", "pleiades", 300, NOW)) is None
    assert (await quotas.burndown(q, "pleiades-science", "2026-Q2")).balances.held_m2 == 0


async def test_an_acceptance_that_would_overdraw_is_refused_saying_what_is_left(q):
    await quotas.hold(q, quotas.HoldQuota("r1", "pleiades-science", "pleiades", 800, NOW))
    with pytest.raises(QuotaExceeded, match="has 200 km² left of its 1000 km² budget for 2026-Q2") as refused:
        await quotas.hold(q, quotas.HoldQuota("r2", "pleiades-science", "pleiades", 250, NOW))
    assert refused.value.remaining_km2 == 200
    assert refused.value.failure_kind == "permanent"  # a consumer sets it aside with this reason
    later = datetime(2026, 7, 1, tzinfo=UTC)  # accepted again next quarter: held there
    b = await quotas.hold(q, quotas.HoldQuota("r2", "pleiades-science", "pleiades", 250, later))
    assert (b.held_m2, await q.ledgers.placement("r2")) == (250_000_000, ("pleiades-science", "2026-Q3"))


async def test_commits_spend_the_hold_and_never_more(q):
    await quotas.hold(q, quotas.HoldQuota("r1", "pleiades-science", "pleiades", 300, NOW))
    await quotas.commit(q, "r1", 1, 120, NOW)
    await quotas.commit(q, "r1", 1, 120, NOW)  # the same delivery again
    with pytest.raises(ExceedsHold, match="holds 180 km²"):
        await quotas.commit(q, "r1", 2, 181, NOW)
    with pytest.raises(ExceedsHold, match="holds no quota"):
        await quotas.commit(q, "r-unknown", 1, 1, NOW)
    b = await quotas.release(q, "r1", "undelivered", NOW)
    assert (b.held_m2, b.committed_m2, b.released_m2, b.remaining_m2) == (0, 120_000_000, 180_000_000, 880_000_000)


async def test_an_expired_request_releases_its_hold_once_and_other_moves_release_nothing(q):
    releases = consumers.releases(q)
    await quotas.hold(q, quotas.HoldQuota("r1", "pleiades-science", "pleiades", 300, NOW))
    await deliver(releases, status_changed("r1", "ordered"))  # not an end: nothing released
    assert (await quotas.burndown(q, "pleiades-science")).balances.held_m2 == 300_000_000
    await deliver(releases, status_changed("r1", "expired"))
    await deliver(releases, status_changed("r1", "expired"))  # delivered twice
    b = (await quotas.burndown(q, "pleiades-science")).balances
    assert (b.held_m2, b.released_m2) == (0, 300_000_000)
    assert [(e.kind, e.case_id) for e in q.ledgers.published] == [("hold", "r1"), ("release", "r1")]


def delivery(request_id: str, delivered_km2: float, ordered_km2: float) -> CloudEvent:
    data = provisioning.DeliveryCompletedV1(order_id=f"o-{request_id}", request_id=request_id, mission="pleiades",
                                            collection="pleiades", item={"id": "PHR-1"}, ordered_km2=ordered_km2,
                                            delivered_km2=delivered_km2, delivered_at=NOW)
    return CloudEvent(type=provisioning.DELIVERY_COMPLETED, source=provisioning.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_a_delivery_commits_what_was_delivered_never_more_than_held_and_releases_the_rest_once(q):
    deliveries = consumers.deliveries(q)
    for case in ("r1", "r2"):
        await quotas.hold(q, quotas.HoldQuota(case, "pleiades-science", "pleiades", 300, NOW))
    await deliver(deliveries, delivery("r1", 250, 300))
    await deliver(deliveries, delivery("r1", 250, 300))  # told twice
    await deliver(deliveries, delivery("r2", 312.4, 300))  # more than held (the footprint's rounding): 300
    await deliver(deliveries, delivery("r9", 50, 50))  # never held here (another cell's service): nothing
    b = (await quotas.burndown(q, "pleiades-science")).balances
    assert b.km2() == {"budget_km2": 1000.0, "held_km2": 0.0, "committed_km2": 550.0, "released_km2": 50.0,
                       "remaining_km2": 450.0}
    assert [(e.kind, e.case_id) for e in q.ledgers.published] == [
        ("hold", "r1"), ("hold", "r2"), ("commit", "r1"), ("release", "r1"), ("commit", "r2")]
    await deliver(consumers.releases(q), cancelled("r1"))  # a late cancellation gives nothing back
    assert (await quotas.burndown(q, "pleiades-science")).balances.committed_m2 == 550_000_000
