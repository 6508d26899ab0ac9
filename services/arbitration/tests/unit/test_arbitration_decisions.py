"""Decisions by people: only the cell's arbiters (or admins) decide; each decision is kept with who,
when and why, and announced; a final decision is final; a question waits for the requester's
answer; a cancelled request's case takes no decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from arbitration_service.domain.access import Actor
from arbitration_service.domain.errors import CaseNotFound, DecisionConflict, InvalidDecision, NotYourCell
from arbitration_service.domain.model import Decision, DecisionRecorded
from arbitration_service.service_layer.handlers import Decide, OpenCase, apply_event, decide, open_case

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SCIENCE = Actor("ana", frozenset({"arbiter"}), frozenset({"pleiades-science"}))
OTHER = Actor("olaf", frozenset({"arbiter"}), frozenset({"institutional", "spot-science"}))
ADMIN = Actor("root", frozenset({"admin"}), frozenset())
USER_WITH_CELLS = Actor("u", frozenset({"user"}), frozenset({"pleiades-science"}))


async def opened(ctx, request_id: str = "r1", area: float = 400.0) -> str:
    await open_case(ctx, OpenCase(request_id, "pleiades", area, {"user_id": "req", "entity_id": "ent-1",
                                                                 "entity_category": "scientific"}))
    return request_id


async def test_an_arbiter_of_the_cell_accepts_and_the_decision_is_announced_with_who_and_when(ctx):
    await opened(ctx)
    case = await decide(ctx, SCIENCE, Decide("r1", "accepted", "fits the programme"))
    assert (case.status, case.decisions) == ("decided", [Decision("accepted", "fits the programme", "ana", NOW, 400.0)])
    assert ctx.cases.published[-1] == DecisionRecorded("r1", "r1", "pleiades-science", "pleiades", "accepted",
                                                       "fits the programme", "ana", NOW, 400.0)
    assert (await ctx.cases.get("r1")).status == "decided"


async def test_a_partial_acceptance_needs_a_reduced_area_and_a_reason(ctx):
    await opened(ctx)
    for body, problem in ((Decide("r1", "accepted-partially", "too large"), "accepted_area_km2"),
                          (Decide("r1", "accepted-partially", "too large", 400.0), "below the requested 400 km²"),
                          (Decide("r1", "accepted-partially", "too large", 0.0), "above 0"),
                          (Decide("r1", "accepted-partially", "  ", 100.0), "needs a reason"),
                          (Decide("r1", "rejected", ""), "needs a reason"),
                          (Decide("r1", "information-requested", ""), "the question to the requester"),
                          (Decide("r1", "accepted", "", 100.0), "only for a partial acceptance"),
                          (Decide("r1", "postponed", "later"), "unknown decision")):
        with pytest.raises(InvalidDecision, match=problem):
            await decide(ctx, SCIENCE, body)
    assert (await ctx.cases.get("r1")).decisions == [] and len(ctx.cases.published) == 1  # the opening only
    case = await decide(ctx, SCIENCE, Decide("r1", "accepted-partially", "the coastal strip only", 150.0))
    assert (case.status, case.decision.accepted_area_km2) == ("decided", 150.0)
    assert ctx.cases.published[-1].accepted_area_km2 == 150.0


async def test_only_the_arbiters_of_the_cell_or_an_admin_decide(ctx):
    await opened(ctx)
    for actor in (OTHER, USER_WITH_CELLS):
        with pytest.raises(NotYourCell, match="only the arbiters of the pleiades-science cell"):
            await decide(ctx, actor, Decide("r1", "rejected", "no"))
    with pytest.raises(CaseNotFound):
        await decide(ctx, SCIENCE, Decide("nope", "rejected", "no"))
    case = await decide(ctx, ADMIN, Decide("r1", "rejected", "outside the programme"))
    assert (case.decision.decided_by, case.decision.accepted_area_km2) == ("root", 0.0)


async def test_a_final_decision_is_final(ctx):
    await opened(ctx)
    await decide(ctx, SCIENCE, Decide("r1", "rejected", "duplicate of r0"))
    for body in (Decide("r1", "accepted", ""), Decide("r1", "information-requested", "why?")):
        with pytest.raises(DecisionConflict, match=r"already decided \(rejected\) by ana on 2026-05-01 09:00"):
            await decide(ctx, ADMIN, body)
    assert [d.decision for d in (await ctx.cases.get("r1")).decisions] == ["rejected"]


async def test_a_question_waits_for_the_answer_then_the_case_is_decided_with_its_whole_trail(ctx, clock):
    await opened(ctx)
    case = await decide(ctx, SCIENCE, Decide("r1", "information-requested", "Which season do you need?"))
    assert case.status == "awaiting-information"
    with pytest.raises(DecisionConflict, match=r"waits for the requester's answer .*Which season"):
        await decide(ctx, SCIENCE, Decide("r1", "accepted", ""))
    clock.now = NOW + timedelta(hours=2)
    await apply_event(ctx, "r1", "ev-1", lambda c: c.information_provided("Spring 2026", "req", clock.now))
    await apply_event(ctx, "r1", "ev-1", lambda c: c.information_provided("Spring 2026", "req", clock.now))  # again
    assert (await ctx.cases.get("r1")).status == "in-review"
    clock.now = NOW + timedelta(hours=3)
    case = await decide(ctx, SCIENCE, Decide("r1", "accepted", "clear now"))
    assert [(d.decision, d.decided_by) for d in case.decisions] == [("information-requested", "ana"),
                                                                    ("accepted", "ana")]
    assert [(s.status, s.by, s.note) for s in case.history] == [
        ("in-review", "req", "opened for the pleiades-science cell"),
        ("awaiting-information", "ana", "information-requested: Which season do you need?"),
        ("in-review", "req", "information provided: Spring 2026"),
        ("decided", "ana", "accepted: clear now")]
    assert [e.decision for e in ctx.cases.published if isinstance(e, DecisionRecorded)] == [
        "information-requested", "accepted"]


async def test_a_cancelled_request_closes_its_case_and_refuses_decisions(ctx):
    await opened(ctx)
    await apply_event(ctx, "r1", "ev-9", lambda c: c.cancel("no longer needed", "req", NOW))
    case = await ctx.cases.get("r1")
    assert (case.status, case.history[-1].note) == ("cancelled", "cancelled by the requester: no longer needed")
    with pytest.raises(DecisionConflict, match="was cancelled by its requester on 2026-05-01 09:00 UTC"):
        await decide(ctx, SCIENCE, Decide("r1", "accepted", ""))


async def test_an_event_about_an_unknown_case_is_refused(ctx):
    with pytest.raises(CaseNotFound):
        await apply_event(ctx, "ghost", "ev-1", lambda c: c.cancel("x", "req", NOW))


async def test_only_final_decisions_by_people_count_in_the_pace(ctx):
    await opened(ctx, "r1")
    await opened(ctx, "r2")
    await decide(ctx, SCIENCE, Decide("r1", "information-requested", "which dates?"))
    await decide(ctx, SCIENCE, Decide("r2", "accepted", ""))
    assert await ctx.cases.decisions_since("pleiades-science", NOW.date()) == 1
