"""What the arbitration service publishes is read from each domain event alone: the payloads the
requests and provisioning services consume, keyed by the request."""

from __future__ import annotations

from datetime import UTC, datetime

from arbitration_service.adapters.translators import outgoing
from arbitration_service.domain.auto_rules import AutoRule, Verdict
from arbitration_service.domain.model import Case
from dinamis_contracts import arbitration as contract

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_an_automatically_accepted_case_announces_its_opening_then_its_decision():
    case = Case.open(request_id="r9", mission="spot-6-7", area_km2=12.5,
                     requester={"user_id": "u", "entity_category": "scientific"}, at=NOW)
    case.decided_automatically(Verdict(AutoRule("small-archive", "archive-within-free-quota"), "accepted",
                                       "automatic acceptance: within the free quota"), NOW)
    events = list(case.events)
    case.record("rejected", "changed our mind", "arbiter-1", NOW, 0.0)  # the aggregate moves on afterwards
    opened, decided = outgoing(events)
    assert (opened.topic, opened.event.type, opened.event.subject) == (contract.TOPIC, contract.CASE_OPENED, "r9")
    assert contract.CaseOpenedV1.model_validate(opened.event.data) == contract.CaseOpenedV1(
        case_id="r9", request_id="r9", cell="spot-science", mission="spot-6-7", area_km2=12.5, opened_at=NOW)
    assert decided.event.type == contract.DECISION_RECORDED
    assert contract.DecisionRecordedV1.model_validate(decided.event.data) == contract.DecisionRecordedV1(
        case_id="r9", request_id="r9", cell="spot-science", mission="spot-6-7", decision="accepted",
        reason="automatic acceptance: within the free quota", decided_by="rule:small-archive", decided_at=NOW,
        accepted_area_km2=12.5)


def test_a_question_to_the_requester_is_announced_as_a_decision_and_as_information_requested():
    case = Case.open(request_id="r7", mission="pleiades", area_km2=40,
                     requester={"user_id": "u", "entity_category": "scientific"}, at=NOW)
    case.events.clear()
    case.decide("information-requested", "Which season do you need?", "arbiter-2", NOW)
    decided, asked = outgoing(case.events)
    assert contract.DecisionRecordedV1.model_validate(decided.event.data).decision == "information-requested"
    assert (asked.topic, asked.event.type, asked.event.subject) == (
        contract.TOPIC, contract.INFORMATION_REQUESTED, "r7")
    assert contract.InformationRequestedV1.model_validate(asked.event.data) == contract.InformationRequestedV1(
        case_id="r7", request_id="r7", cell="pleiades-science", question="Which season do you need?",
        asked_by="arbiter-2", asked_at=NOW)
