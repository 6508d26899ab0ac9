"""Which cell reviews a request, what the case keeps of it, and what the cells' automatic rules
decide (configuration per cell, recorded as by ``rule:<name>``; none in production)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arbitration_service.adapters.repository import from_document, to_document
from arbitration_service.domain.access import Actor
from arbitration_service.domain.auto_rules import AutoRule, AutoRules
from arbitration_service.domain.model import CELLS, Case, CaseOpened, DecisionRecorded, route
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.service_layer.handlers import OpenCase, list_cases, open_case
from arbitration_service.settings import Settings

from .conftest import InMemoryCases

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ARCHIVE_RULE = {"name": "archive-within-free-quota", "kind": "archive-within-free-quota"}
SCIENTIST = {"user_id": "u", "entity_id": "lab-1", "entity_category": "scientific"}


def quote(free: float, over: float) -> dict:
    return {"area_km2": free + over, "free_km2": free, "over_quota_km2": over, "billed_km2": over,
            "price_eur": "0.00", "payer": "nobody" if over == 0 else "cnes-cofunding", "basis": "…",
            "invoicing_minimum_km2": 25, "cell": "pleiades-science", "period": "2026-Q2",
            "quoted_at": "2026-05-01T00:00:00Z", "valid_until": "2026-05-02T00:00:00Z",
            "delivered_offers": [{"item_id": "d1", "collection": "pleiades", "acquired_at": "2026-01-01T00:00:00Z",
                                  "coverage": 0.8}],
            "join_offers": []}


def submitted(request_id: str = "r1", kind: str = "archive", area: float = 9.0, over: float = 0.0,
              mission: str = "pleiades", requester: dict | None = None, **more) -> OpenCase:
    return OpenCase(request_id, mission, area, requester or SCIENTIST, kind=kind,
                    quote=quote(area - over, over), **more)


def rules_in(*cells: str) -> Arbitration:
    return Arbitration(InMemoryCases(), AutoRules.of({c: [ARCHIVE_RULE] for c in cells}, CELLS), clock=lambda: NOW)


@pytest.mark.parametrize(("mission", "category", "cell"), [
    ("pleiades", "scientific", "pleiades-science"),
    ("spot-6-7", "scientific", "spot-science"),
    ("pleiades", "institutional", "institutional"),
    ("spot-6-7", "institutional", "institutional"),
])
def test_requests_are_routed_to_the_cell_of_their_mission_and_requester(mission, category, cell):
    assert route(mission, category) == cell


async def test_an_archive_request_within_the_free_quota_is_accepted_by_the_cells_rule():
    ctx = rules_in("pleiades-science")
    assert await open_case(ctx, submitted())
    case = await ctx.cases.get("r1")
    assert case.status == "decided"
    assert (case.decision.decision, case.decision.decided_by, case.decision.accepted_area_km2) == \
        ("accepted", "rule:archive-within-free-quota", 9.0)
    assert ctx.cases.published == [
        CaseOpened("r1", "r1", "pleiades-science", "pleiades", 9.0, NOW),
        DecisionRecorded("r1", "r1", "pleiades-science", "pleiades", "accepted",
                         "automatic acceptance: archive request of 9 km² within the free quota (9 km² free, "
                         "nothing over)", "rule:archive-within-free-quota", NOW, 9.0)]
    assert [(s.status, s.by) for s in case.history] == [
        ("in-review", "u"), ("decided", "rule:archive-within-free-quota")]


async def test_a_rule_enabled_in_one_cell_decides_nothing_in_another():
    ctx = rules_in("spot-science")
    await open_case(ctx, submitted("pleiades-1"))  # pleiades-science: no rule there
    await open_case(ctx, submitted("spot-1", mission="spot-6-7"))  # spot-science
    await open_case(ctx, submitted("inst-1", requester={"user_id": "v", "entity_id": "ministry",
                                                        "entity_category": "institutional"}))
    assert {c.id: (c.cell, str(c.status)) for c in ctx.cases.rows.values()} == {
        "pleiades-1": ("pleiades-science", "in-review"), "spot-1": ("spot-science", "decided"),
        "inst-1": ("institutional", "in-review")}


async def test_the_production_default_accepts_nothing_automatically():
    assert Settings().arbitration_auto_rules == {}
    ctx = Arbitration(InMemoryCases(), clock=lambda: NOW)
    await open_case(ctx, submitted())
    case = await ctx.cases.get("r1")
    assert (case.status, case.decisions) == ("in-review", [])


@pytest.mark.parametrize("request_", [
    submitted(over=4.0),  # 5 km² free, 4 over: someone pays, a person decides
    submitted(kind="tasking"),  # a tasking within quota still needs a person
    submitted(requester={"user_id": "u", "entity_id": None, "entity_category": "scientific"}),  # no entity
    OpenCase("r1", "pleiades", 9.0, SCIENTIST, kind="archive"),  # no quote (submitted before quotes)
], ids=["over-quota-archive", "tasking", "no-entity", "no-quote"])
async def test_what_the_archive_rule_does_not_cover_waits_for_a_person(request_):
    ctx = rules_in(*CELLS)
    await open_case(ctx, request_)
    case = await ctx.cases.get("r1")
    assert (case.status, case.decisions) == ("in-review", [])
    assert [type(e) for e in ctx.cases.published] == [CaseOpened]


def test_a_rule_of_an_unknown_kind_or_for_an_unknown_cell_is_refused_at_start():
    with pytest.raises(ValueError, match="unknown automatic rule kind 'max-area'"):
        AutoRule("big", "max-area")
    with pytest.raises(ValueError, match="unknown cells moon"):
        AutoRules.of({"moon": [ARCHIVE_RULE]}, CELLS)
    assert Settings(arbitration_auto_rules={"institutional": [ARCHIVE_RULE]}).arbitration_auto_rules[
        "institutional"][0].kind == "archive-within-free-quota"


def test_the_rules_are_read_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("ARBITRATION_AUTO_RULES", '{"spot-science": [{"name": "small-archive", '
                                                 '"kind": "archive-within-free-quota"}]}')
    rules = Settings().arbitration_auto_rules
    assert [(r.name, r.kind) for r in rules["spot-science"]] == [("small-archive", "archive-within-free-quota")]


async def test_the_case_keeps_what_the_cell_needs_of_the_request():
    ctx = Arbitration(InMemoryCases(), clock=lambda: NOW)
    await open_case(ctx, submitted(priority="urgent", justification="flood in the Aude",
                                   funding_reference="ANR-22-0001",
                                   scenes=[{"item_id": "a1", "area_km2": 9.0, "acquired_at": None}]))
    case = await ctx.cases.get("r1")
    assert (case.kind, case.priority, case.justification, case.funding_reference) == (
        "archive", "urgent", "flood in the Aude", "ANR-22-0001")
    assert case.quote["over_quota_km2"] == 0 and case.offers["delivered"][0]["item_id"] == "d1"
    assert case.offers["join"] == [] and case.scenes[0]["item_id"] == "a1"


async def test_a_submission_delivered_twice_opens_one_case(ctx):
    cmd = OpenCase(request_id="r1", mission="spot-6-7", area_km2=10.0,
                   requester={"user_id": "u", "entity_category": "institutional"})
    assert await open_case(ctx, cmd)
    assert not await open_case(ctx, cmd)
    assert list(ctx.cases.rows) == ["r1"] and ctx.cases.rows["r1"].cell == "institutional"


async def test_an_automatically_accepted_submission_delivered_twice_is_decided_once():
    ctx = rules_in(*CELLS)
    assert await open_case(ctx, submitted())
    assert not await open_case(ctx, submitted())
    assert [type(e) for e in ctx.cases.published] == [CaseOpened, DecisionRecorded]


async def test_an_arbiter_reads_the_cases_of_their_cells_and_an_administrator_every_cell(ctx):
    for request_id, category in (("r1", "scientific"), ("r2", "institutional")):
        await open_case(ctx, OpenCase(request_id, "pleiades", 5.0, {"user_id": "u", "entity_category": category}))
    arbiter = Actor("a", frozenset({"arbiter"}), frozenset({"pleiades-science"}))
    admin = Actor("root", frozenset({"admin"}), frozenset())
    assert [c.id for c in await list_cases(ctx, arbiter, 10)] == ["r1"]
    assert sorted(c.id for c in await list_cases(ctx, admin, 10)) == ["r1", "r2"]


def test_a_case_stored_before_issue_10_reads_as_a_standard_tasking():
    case = Case.open(request_id="old", mission="pleiades", area_km2=20.0, requester=SCIENTIST, at=NOW)
    doc = to_document(case)
    for key in ("kind", "justification", "funding_reference", "quote", "tasking", "scenes"):
        doc.pop(key)
    doc["priority"] = None
    old = from_document(doc)
    assert (old.kind, old.priority, old.quote, old.scenes, old.offers) == (
        "tasking", "standard", None, [], {"delivered": [], "join": []})


def test_an_expired_request_closes_its_waiting_case_and_a_decided_one_keeps_its_decision():
    from arbitration_service.domain.errors import DecisionConflict

    waiting = Case.open(request_id="r1", mission="pleiades", area_km2=50, requester={"entity_category": "scientific"},
                        at=NOW)
    assert waiting.expire(NOW) and waiting.status == "expired"
    assert not waiting.expire(NOW)  # once
    with pytest.raises(DecisionConflict, match="expired on 2026-05-01 00:00 UTC"):
        waiting.decide("accepted", "late", "ana", NOW)
    assert from_document(to_document(waiting)).status == "expired"
    decided = Case.open(request_id="r2", mission="pleiades", area_km2=50, requester={"entity_category": "scientific"},
                        at=NOW)
    decided.decide("accepted", "fits", "ana", NOW)
    assert decided.expire(NOW) and (decided.status, decided.decision.decision) == ("decided", "accepted")
    assert decided.history[-1].note.startswith("the request expired")
