"""The queue of a cell: its cases in review by priority (urgent, high, standard) then age, numbered
from 1, each with the date a decision may be expected at the cell's pace over its last 14 days (or the
configured default); the requester's place is the same position and date, shown to their entity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from arbitration_service.domain.access import Actor
from arbitration_service.domain.errors import CaseNotFound, NotYourCell, UnknownCell
from arbitration_service.domain.model import Case, Status
from arbitration_service.domain.queue import Pace, queue
from arbitration_service.service_layer.context import Arbitration, QueuePolicy
from arbitration_service.service_layer.handlers import (
    Decide,
    OpenCase,
    apply_event,
    cell_queue,
    decide,
    open_case,
    queue_place,
)

from .conftest import InMemoryCases

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SCIENCE = Actor("ana", frozenset({"arbiter"}), frozenset({"pleiades-science"}))


def case(id: str, age_days: float, priority: str = "standard", status: Status = Status.IN_REVIEW) -> Case:
    return Case(id, id, "pleiades-science", "pleiades", 10.0, {}, NOW - timedelta(days=age_days), status, priority)


def test_urgent_then_high_then_standard_and_the_oldest_first_within_each_and_only_cases_in_review():
    cases = [case("new", 1), case("old", 5), case("urgent", 0, "urgent"), case("high-new", 0.5, "high"),
             case("asked", 9, "urgent", Status.AWAITING_INFORMATION), case("done", 9, "urgent", Status.DECIDED),
             case("high-old", 2, "high"), case("mid", 3), case("urgent-old", 0.1, "urgent")]
    assert [(e.position, e.case.id) for e in queue(cases, Pace(1.0, True), NOW)] == [
        (1, "urgent-old"), (2, "urgent"), (3, "high-old"), (4, "high-new"), (5, "old"), (6, "mid"), (7, "new")]


def test_without_priorities_the_oldest_comes_first():
    assert [e.case.id for e in queue([case("b", 1), case("a", 2), case("c", 0)], Pace(1.0, True), NOW)] == [
        "a", "b", "c"]


def test_expected_dates_follow_the_pace():
    entries = queue([case(str(i), 10 - i) for i in range(5)], Pace(2.0, True), NOW)
    assert [e.expected_decision_date for e in entries] == [
        date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 2), date(2026, 5, 3), date(2026, 5, 3)]


def test_the_pace_is_measured_when_the_cell_decided_recently_else_the_default():
    assert Pace.of(7, 14, 2.0) == Pace(0.5, True)
    assert Pace.of(0, 14, 2.0) == Pace(2.0, False)


async def test_the_queue_of_a_cell_numbers_its_waiting_cases_and_dates_them_at_its_recent_pace(ctx, clock):
    for i, request_id in enumerate(("q1", "q2", "q3", "q4", "q5", "q6")):
        clock.now = NOW + timedelta(hours=i)
        await open_case(ctx, OpenCase(request_id, "pleiades", 20.0,
                                      {"user_id": "u", "entity_id": f"ent-{i}", "entity_category": "scientific"}))
    await open_case(ctx, OpenCase("elsewhere", "spot-6-7", 20.0, {"user_id": "u", "entity_category": "scientific"}))
    fresh = await cell_queue(ctx, SCIENCE, "pleiades-science", 500)
    assert (fresh.count, fresh.complete, fresh.pace) == (6, True, Pace(2.0, False))  # no history: the default
    await decide(ctx, SCIENCE, Decide("q1", "accepted", ""))
    await decide(ctx, SCIENCE, Decide("q2", "information-requested", "which dates?"))
    await apply_event(ctx, "q3", "ev-c", lambda c: c.cancel("not needed", "u", clock.now))
    clock.now = NOW + timedelta(days=20)  # q1's decision is older than 14 days: it no longer counts
    await decide(ctx, SCIENCE, Decide("q4", "rejected", "out of scope"))
    q = await cell_queue(ctx, SCIENCE, "pleiades-science", 500)
    assert q.pace == Pace(1 / 14, True) and q.count == 2
    assert [(e.position, e.case.id, e.case.requester["entity_id"], e.expected_decision_date) for e in q.entries] == [
        (1, "q5", "ent-4", date(2026, 6, 4)), (2, "q6", "ent-5", date(2026, 6, 18))]
    assert [e.case.id for e in (await cell_queue(ctx, SCIENCE, "pleiades-science", 1)).entries] == ["q5"]


async def test_only_the_cells_arbiters_and_admins_read_its_queue(ctx):
    with pytest.raises(NotYourCell):
        await cell_queue(ctx, SCIENCE, "institutional", 10)
    with pytest.raises(UnknownCell, match="no cell 'moon'"):
        await cell_queue(ctx, Actor("root", frozenset({"admin"}), frozenset()), "moon", 10)


ENTITY_MEMBER = Actor("eve", frozenset({"user"}), frozenset(), "ent-2")


async def submit(ctx, clock, n: int, priority: str = "standard") -> None:
    for i in range(n):
        clock.now = NOW + timedelta(hours=i)
        await open_case(ctx, OpenCase(f"r{i}", "pleiades", 20.0, {"user_id": f"u{i}", "entity_id": f"ent-{i}",
                                                                   "entity_category": "scientific"},
                                      priority=priority))


async def test_the_requesters_place_is_their_position_and_date_in_the_cells_own_queue(ctx, clock):
    await submit(ctx, clock, 4)
    await open_case(ctx, OpenCase("hurry", "pleiades", 20.0, {"user_id": "h", "entity_id": "ent-9",
                                                              "entity_category": "scientific"}, priority="urgent"))
    cell = await cell_queue(ctx, SCIENCE, "pleiades-science", 500)
    seen = {e.case.id: (e.position, e.expected_decision_date) for e in cell.entries}
    place = await queue_place(ctx, ENTITY_MEMBER, "r2")
    assert (place.cell, place.position, place.expected_decision_date, place.count) == (
        "pleiades-science", *seen["r2"], 5)
    assert place.position == 4  # the urgent one went first
    for who in (SCIENCE, Actor("op", frozenset({"operator"}), frozenset()), Actor("root", frozenset({"admin"}),
                                                                                   frozenset())):
        assert (await queue_place(ctx, who, "r2")).position == 4


@pytest.mark.parametrize("who", [
    Actor("mallory", frozenset({"user"}), frozenset(), "ent-other"),  # another entity
    Actor("nobody", frozenset({"user"}), frozenset(), None),  # no entity
    Actor("ian", frozenset({"arbiter"}), frozenset({"institutional"}), "cnes"),  # an arbiter of another cell
], ids=["another-entity", "no-entity", "arbiter-of-another-cell"])
async def test_nobody_else_learns_of_a_request_in_a_queue(ctx, clock, who):
    await submit(ctx, clock, 3)
    with pytest.raises(CaseNotFound, match="no case for request r2 that you may see"):
        await queue_place(ctx, who, "r2")
    with pytest.raises(CaseNotFound):
        await queue_place(ctx, who, "never-submitted")


async def test_a_request_not_in_review_has_no_place(ctx, clock):
    await submit(ctx, clock, 3)
    await decide(ctx, SCIENCE, Decide("r2", "information-requested", "which season?"))
    with pytest.raises(CaseNotFound, match="not waiting in a queue: its case is awaiting-information"):
        await queue_place(ctx, ENTITY_MEMBER, "r2")
    await decide(ctx, SCIENCE, Decide("r1", "rejected", "no"))
    assert (await queue_place(ctx, Actor("x", frozenset(), frozenset(), "ent-0"), "r0")).position == 1


async def test_beyond_the_cases_one_queue_reads_the_request_is_placed_among_those_read(clock):
    small = Arbitration(InMemoryCases(), clock=clock, queue=QueuePolicy(14, 2.0, 2))
    await submit(small, clock, 4)
    place = await queue_place(small, Actor("x", frozenset(), frozenset(), "ent-3"), "r3")
    assert (place.position, place.count) == (3, 4)  # after the two read, all older: a lower bound
