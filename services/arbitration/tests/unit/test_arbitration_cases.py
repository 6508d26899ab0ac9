"""Which cell reviews a request, and what the automatic rule decides (recorded as by ``rule:<name>``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arbitration_service.domain.access import Actor
from arbitration_service.domain.model import AutoRule, Case, CaseOpened, DecisionRecorded, route
from arbitration_service.service_layer.handlers import OpenCase, list_cases, open_case

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(("mission", "category", "cell"), [
    ("pleiades", "scientific", "pleiades-science"),
    ("spot-6-7", "scientific", "spot-science"),
    ("pleiades", "institutional", "institutional"),
    ("spot-6-7", "institutional", "institutional"),
])
def test_requests_are_routed_to_the_cell_of_their_mission_and_requester(mission, category, cell):
    assert route(mission, category) == cell


def open_one(area: float, rule: AutoRule) -> Case:
    return Case.open(request_id="r1", mission="pleiades", area_km2=area,
                     requester={"user_id": "u", "entity_category": "scientific"}, at=NOW, rule=rule)


def test_the_automatic_rule_accepts_up_to_its_threshold():
    case = open_one(500, AutoRule(True, 500))
    assert case.status == "decided"
    assert (case.decision.decision, case.decision.decided_by, case.decision.accepted_area_km2) == \
        ("accepted", "rule:max-area", 500)
    assert case.events == [
        CaseOpened("r1", "r1", "pleiades-science", "pleiades", 500, NOW),
        DecisionRecorded("r1", "r1", "pleiades-science", "pleiades", "accepted",
                         "automatic acceptance: 500 km² ≤ 500 km²", "rule:max-area", NOW, 500)]
    assert [(s.status, s.by) for s in case.history] == [("in-review", "u"), ("decided", "rule:max-area")]


def test_the_rule_is_recorded_under_its_configured_name():
    assert open_one(5, AutoRule(True, 500, "small-archive")).decision.decided_by == "rule:small-archive"


def test_a_larger_request_waits_for_a_person():
    case = open_one(501, AutoRule(True, 500))
    assert case.status == "in-review" and case.decision is None
    assert [type(e) for e in case.events] == [CaseOpened]


def test_a_disabled_rule_decides_nothing():
    assert open_one(1, AutoRule(False, 500)).decision is None


async def test_a_submission_delivered_twice_opens_one_case(ctx):
    cmd = OpenCase(request_id="r1", mission="spot-6-7", area_km2=10.0,
                   requester={"user_id": "u", "entity_category": "institutional"})
    assert await open_case(ctx, cmd)
    assert not await open_case(ctx, cmd)
    assert list(ctx.cases.rows) == ["r1"] and ctx.cases.rows["r1"].cell == "institutional"


async def test_an_arbiter_reads_the_cases_of_their_cells_and_an_administrator_every_cell(ctx):
    for request_id, category in (("r1", "scientific"), ("r2", "institutional")):
        await open_case(ctx, OpenCase(request_id, "pleiades", 5.0, {"user_id": "u", "entity_category": category}))
    arbiter = Actor("a", frozenset({"arbiter"}), frozenset({"pleiades-science"}))
    admin = Actor("root", frozenset({"admin"}), frozenset())
    assert [c.id for c in await list_cases(ctx, arbiter, 10)] == ["r1"]
    assert sorted(c.id for c in await list_cases(ctx, admin, 10)) == ["r1", "r2"]
