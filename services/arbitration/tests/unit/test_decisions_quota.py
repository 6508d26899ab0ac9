"""Acceptances against the cell's quota, on in-memory repositories: one that would overdraw is
refused saying what is left and recorded nowhere; the automatic rule leaves such a case in review
for a person; an arbiter who loses a race holds nothing; a decision whose attempt died after its
hold is completed by the sweep, and the consumer's hold then changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from arbitration_service.domain.access import Actor
from arbitration_service.domain.auto_rules import AutoRules
from arbitration_service.domain.errors import DecisionConflict
from arbitration_service.domain.ledger import QuotaExceeded
from arbitration_service.domain.model import CELLS, CaseOpened, DecisionRecorded
from arbitration_service.service_layer import quotas
from arbitration_service.service_layer.context import Arbitration, QueuePolicy
from arbitration_service.service_layer.decisions import Decide, complete, decide, settle
from arbitration_service.service_layer.handlers import OpenCase, apply_event, open_case
from arbitration_service.service_layer.ports import Claim

from .conftest import NOW, Clock, InMemoryCases

ANA = Actor("ana", frozenset({"arbiter"}), frozenset({"pleiades-science"}))
BEN = Actor("ben", frozenset({"arbiter"}), frozenset({"pleiades-science"}))
LEFT_200 = "the pleiades-science cell has 200 km² left of its 1000 km² budget for 2026-Q2"


@pytest.fixture
def qctx(q, clock) -> Arbitration:
    """The cell's budget is 1000 km² for 2026-Q2; no automatic rule."""
    return Arbitration(InMemoryCases(), clock=clock, queue=QueuePolicy(), quotas=q)


async def opened(ctx: Arbitration, request_id: str, km2: float) -> str:
    await open_case(ctx, OpenCase(request_id, "pleiades", km2, {"user_id": "req", "entity_category": "scientific"}))
    return request_id


async def held(q, cell: str = "pleiades-science") -> float:
    return (await quotas.burndown(q, cell, "2026-Q2")).balances.km2()["held_km2"]


async def test_an_acceptance_that_would_overdraw_is_refused_saying_what_is_left_and_recorded_nowhere(qctx, q):
    await opened(qctx, "r1", 800)
    await opened(qctx, "r2", 400)
    await decide(qctx, ANA, Decide("r1", "accepted", ""))
    with pytest.raises(QuotaExceeded, match=f"{LEFT_200}: 400 km² cannot be accepted") as refused:
        await decide(qctx, BEN, Decide("r2", "accepted", "fits"))
    assert refused.value.remaining_km2 == 200
    case = await qctx.cases.get("r2")
    assert (case.status, case.decisions, qctx.cases.claims) == ("in-review", [], {})
    assert not [e for e in qctx.cases.published if isinstance(e, DecisionRecorded) and e.case_id == "r2"]
    assert await held(q) == 800
    # what is left can still be accepted, and a rejection needs no quota
    case = await decide(qctx, BEN, Decide("r2", "accepted-partially", "the coast only", 200))
    assert (case.status, case.decision.accepted_area_km2, await held(q)) == ("decided", 200, 1000)
    await opened(qctx, "r3", 10)
    assert (await decide(qctx, ANA, Decide("r3", "rejected", "no budget left"))).status == "decided"


async def archive_within_quota(ctx: Arbitration, request_id: str, km2: float) -> str:
    quote = {"area_km2": km2, "free_km2": km2, "over_quota_km2": 0.0}
    await open_case(ctx, OpenCase(request_id, "pleiades", km2, {"user_id": "req", "entity_id": "lab",
                                                                 "entity_category": "scientific"},
                                  kind="archive", quote=quote))
    return request_id


async def test_the_automatic_rule_leaves_a_case_the_quota_cannot_take_in_review_for_a_person(q, clock):
    rules = AutoRules.of({c: [{"name": "free-archive", "kind": "archive-within-free-quota"}] for c in CELLS}, CELLS)
    ctx = Arbitration(InMemoryCases(), rules, clock=clock, queue=QueuePolicy(), quotas=q)
    assert await archive_within_quota(ctx, "r1", 800) and await archive_within_quota(ctx, "r2", 300)
    first, second = await ctx.cases.get("r1"), await ctx.cases.get("r2")
    assert (first.status, first.decision.decided_by) == ("decided", "rule:free-archive")
    assert (second.status, second.decisions) == ("in-review", [])
    assert [(s.status, s.by, s.note) for s in second.history][1:] == [
        ("in-review", "rule:free-archive", f"not accepted automatically: {LEFT_200}: 300 km² cannot be accepted "
                                           "(accept a smaller area, or wait for the next period)")]
    assert [type(e) for e in ctx.cases.published if getattr(e, "case_id", None) == "r2"] == [CaseOpened]
    await archive_within_quota(ctx, "r2", 300)  # delivered again
    assert (await ctx.cases.get("r2")).version == 1 and await held(q) == 800
    case = await decide(ctx, ANA, Decide("r2", "accepted-partially", "what is left", 200))  # a person decides
    assert (case.decision.decided_by, await held(q)) == ("ana", 1000)


class SlowLedgers:
    """The ledger repository, each write yielding to the other tasks first: holds interleave."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def save(self, ledger, version):
        await asyncio.sleep(0)
        return await self.inner.save(ledger, version)


async def test_two_arbiters_accepting_two_cases_at_once_that_overdraw_one_is_refused(qctx, q):
    ctx = Arbitration(qctx.cases, qctx.rules, clock=qctx.clock, quotas=quotas.Quotas(SlowLedgers(q.ledgers), q.policy,
                                                                                      q.clock))
    await opened(ctx, "r1", 600)
    await opened(ctx, "r2", 500)
    outcomes = await asyncio.gather(decide(ctx, ANA, Decide("r1", "accepted", "")),
                                    decide(ctx, BEN, Decide("r2", "accepted", "")), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert len(refused) == 1 and "km² left of its 1000 km² budget" in str(refused[0])
    assert [o.decision.decision for o in outcomes if not isinstance(o, Exception)] == ["accepted"]
    assert await held(q) in (600, 500) and len([e for e in q.ledgers.published if e.kind == "hold"]) == 1


async def test_an_arbiter_who_loses_the_race_for_a_case_holds_nothing(qctx, q):
    ctx = Arbitration(qctx.cases, qctx.rules, clock=qctx.clock, quotas=quotas.Quotas(SlowLedgers(q.ledgers), q.policy,
                                                                                      q.clock))
    await opened(ctx, "r1", 400)
    ana, ben = await asyncio.gather(decide(ctx, ANA, Decide("r1", "accepted", "")),
                                    decide(ctx, BEN, Decide("r1", "rejected", "out of scope")),
                                    return_exceptions=True)
    assert isinstance(ben, DecisionConflict) and "is being decided by ana (accepted" in str(ben)
    assert (ana.decision.decided_by, await held(q)) == ("ana", 400)
    with pytest.raises(DecisionConflict, match=r"already decided \(accepted\) by ana"):
        await decide(ctx, BEN, Decide("r1", "rejected", "out of scope"))
    # the other way round: the rejection wins, the acceptance loses before any hold
    await opened(ctx, "r2", 300)
    ben, ana = await asyncio.gather(decide(ctx, BEN, Decide("r2", "rejected", "out of scope")),
                                    decide(ctx, ANA, Decide("r2", "accepted", "")), return_exceptions=True)
    assert isinstance(ana, DecisionConflict) and ben.decision.decision == "rejected"
    assert await held(q) == 400 and ctx.cases.claims == {}
    assert [e.case_id for e in q.ledgers.published] == ["r1"]


class CrashingCases(InMemoryCases):
    """Saves fail (the process dies) while ``crash`` is set."""

    crash = False

    async def save(self, case, applied_event=None):
        if self.crash:
            raise ConnectionError("the process died")
        return await super().save(case, applied_event)


async def test_a_decision_whose_attempt_died_after_its_hold_is_completed_by_the_sweep(q):
    clock = Clock()
    ctx = Arbitration(CrashingCases(), clock=clock, queue=QueuePolicy(), quotas=q,
                      settle_after=timedelta(seconds=30))
    await opened(ctx, "r1", 400)
    ctx.cases.crash = True
    with pytest.raises(ConnectionError):
        await decide(ctx, ANA, Decide("r1", "accepted-partially", "the north half", 250))
    ctx.cases.crash = False
    assert (await ctx.cases.get("r1")).status == "in-review" and await held(q) == 250
    with pytest.raises(DecisionConflict, match="is being decided by ana"):  # one decision at a time
        await decide(ctx, BEN, Decide("r1", "rejected", "no"))
    assert await settle(ctx) == 0  # not yet: its attempt may still be at work
    clock.now = NOW + timedelta(seconds=31)
    assert await settle(ctx) == 1
    case = await ctx.cases.get("r1")
    assert (case.decision.decision, case.decision.decided_by, case.decision.decided_at) == (
        "accepted-partially", "ana", NOW)
    assert ctx.cases.claims == {} and await settle(ctx) == 0
    assert [e.kind for e in q.ledgers.published] == ["hold"]  # held once, by the attempt that died


async def test_a_claim_for_a_case_cancelled_meanwhile_is_dropped_and_the_cancellation_releases(qctx, q, clock):
    await opened(qctx, "r1", 400)
    claim = Claim("r1", "t-1", "accepted", "", None, "ana", NOW)
    assert await qctx.cases.claim(claim) is None
    await quotas.hold(q, quotas.HoldQuota("r1", "pleiades-science", "pleiades", 400, NOW))  # then it died
    await apply_event(qctx, "r1", "ev-1", lambda c: c.cancel("not needed", "req", NOW))
    with pytest.raises(DecisionConflict, match="was cancelled by its requester"):
        await complete(qctx, claim)
    assert qctx.cases.claims == {} and (await qctx.cases.get("r1")).decisions == []
    await quotas.release(q, "r1", "cancelled", NOW)  # the cancellation's ledger consumer
    assert await held(q) == 0
