"""On the real Kafka and FerretDB, through the served service: an arbiter of the cell decides over
HTTP and the decision, with who decided, is announced on the topic; an arbiter of another cell and a
plain user are refused; a question waits for the requester, whose answer (the requests service's
event) puts the case back in review; a cancelled request's case refuses a decision; the queue of a
cell lists its waiting cases in order, numbered, with expected dates."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration, requests
from dinamis_testkit.polling import until

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}
LARGE = 400.0  # a tasking request: no rule of the test profile decides it, it waits for a person


def new_id() -> str:
    return f"req-{uuid.uuid4().hex[:8]}"


def event(kind: str, request_id: str, payload) -> CloudEvent:
    return CloudEvent(type=kind, source=requests.SOURCE, subject=request_id, data=payload.model_dump(mode="json"))


def submission(request_id: str, category: str = "scientific", entity: str = "ent-1") -> CloudEvent:
    return event(requests.REQUEST_SUBMITTED, request_id, requests.RequestSubmittedV1(
        request_id=request_id, title="Dunes", mission="pleiades", aoi=AOI, area_km2=LARGE,
        submitted_at=datetime.now(UTC), requester=requests.Requester(user_id="req-user", entity_id=entity,
                                                                     entity_category=category)))


async def opened_case(service, request_id: str, **submitted) -> dict:
    await service.upstream.publish(submission(request_id, **submitted))
    async with service.client(roles=["admin"]) as admin:
        return await until(lambda: _json_if_found(admin, f"/api/arbitration/cases/{request_id}"))


async def case_where(service, request_id: str, status: str) -> dict:
    async with service.client(roles=["admin"]) as admin:
        async def probe():
            found = await _json_if_found(admin, f"/api/arbitration/cases/{request_id}")
            return found if found and found["status"] == status else None
        return await until(probe)


async def _json_if_found(api, path: str):
    response = await api.get(path)
    return response.json() if response.status_code == 200 else None


async def announced_decision(service, request_id: str, decision: str) -> dict:
    async with asyncio.timeout(20):
        async for record in service.published:
            body = json.loads(record.value)
            if (dict(record.headers)["ce_type"].decode() == arbitration.DECISION_RECORDED
                    and body["request_id"] == request_id and body["decision"] == decision):
                return body
    raise AssertionError("unreachable")


def science_arbiter(service, user: str = "ana"):
    return service.client(user=user, roles=["arbiter"], cells=["pleiades-science"])


async def test_an_arbiter_of_the_cell_decides_and_the_decision_is_announced_with_who_decided(service):
    request_id = new_id()
    await opened_case(service, request_id)
    path = f"/api/arbitration/cases/{request_id}/decisions"
    async with service.client(user="olaf", roles=["arbiter"], cells=["institutional"]) as other:
        refused = await other.post(path, json={"decision": "accepted"})
    assert refused.status_code == 403 and "pleiades-science" in refused.json()["message"]
    async with service.client(user="mallory", roles=["user"], cells=["pleiades-science"]) as user:
        assert (await user.post(path, json={"decision": "accepted"})).status_code == 403
    async with science_arbiter(service) as ana:
        missing = await ana.post(path, json={"decision": "accepted-partially", "reason": "coast only"})
        assert missing.status_code == 422 and "accepted_area_km2" in missing.json()["message"]
        decided = await ana.post(path, json={"decision": "accepted-partially", "reason": "coast only",
                                             "accepted_area_km2": 150.0})
        assert decided.status_code == 201, decided.text
        again = await ana.post(path, json={"decision": "rejected", "reason": "second thoughts"})
    case = decided.json()
    assert (case["status"], case["decided_by"], [d["decision"] for d in case["decisions"]]) == (
        "decided", "ana", ["accepted-partially"])
    assert again.status_code == 409 and "already decided (accepted-partially) by ana" in again.json()["message"]
    assert await announced_decision(service, request_id, "accepted-partially") == {
        "case_id": request_id, "request_id": request_id, "cell": "pleiades-science", "mission": "pleiades",
        "decision": "accepted-partially", "reason": "coast only", "decided_by": "ana",
        "decided_at": case["decided_at"], "accepted_area_km2": 150.0}


async def test_a_question_waits_for_the_requesters_answer_which_puts_the_case_back_in_review(service):
    request_id = new_id()
    await opened_case(service, request_id)
    path = f"/api/arbitration/cases/{request_id}/decisions"
    async with science_arbiter(service) as ana:
        asked = await ana.post(path, json={"decision": "information-requested", "reason": "Which season?"})
        assert (asked.status_code, asked.json()["status"]) == (201, "awaiting-information")
        early = await ana.post(path, json={"decision": "accepted"})
        assert early.status_code == 409 and "waits for the requester's answer" in early.json()["message"]
        answer = event(requests.INFORMATION_PROVIDED, request_id, requests.InformationProvidedV1(
            request_id=request_id, answer="Spring 2026", provided_by="req-user", provided_at=datetime.now(UTC)))
        await service.upstream.publish(answer, answer)  # delivered twice: applied once
        back = await case_where(service, request_id, "in-review")
        assert [s["note"] for s in back["history"]].count("information provided: Spring 2026") == 1
        accepted = await ana.post(path, json={"decision": "accepted", "reason": "clear now"})
    assert accepted.status_code == 201
    assert [(d["decision"], d["decided_by"]) for d in accepted.json()["decisions"]] == [
        ("information-requested", "ana"), ("accepted", "ana")]
    assert (await announced_decision(service, request_id, "information-requested"))["reason"] == "Which season?"


async def test_a_cancelled_requests_case_refuses_a_decision(service):
    request_id = new_id()
    await opened_case(service, request_id)
    await service.upstream.publish(event(requests.REQUEST_CANCELLED, request_id, requests.RequestCancelledV1(
        request_id=request_id, reason="no longer needed", cancelled_by="req-user", cancelled_at=datetime.now(UTC))))
    await case_where(service, request_id, "cancelled")
    async with science_arbiter(service) as ana:
        refused = await ana.post(f"/api/arbitration/cases/{request_id}/decisions", json={"decision": "accepted"})
    assert refused.status_code == 409 and "cancelled by its requester" in refused.json()["message"]


async def test_the_queue_of_a_cell_lists_its_waiting_cases_oldest_first_with_positions_and_dates(service):
    ids = [new_id() for _ in range(3)]
    for i, request_id in enumerate(ids):  # one after the other: each is opened before the next
        await opened_case(service, request_id, category="institutional", entity=f"ent-{i}")
    path = "/api/arbitration/cells/institutional/queue"
    async with service.client(user="ines", roles=["arbiter"], cells=["institutional"]) as ines:
        before = datetime.now(UTC)
        first = (await ines.get(path)).json()
        after = datetime.now(UTC)
        decided = await ines.post(f"/api/arbitration/cases/{ids[1]}/decisions", json={"decision": "accepted"})
        assert decided.status_code == 201
        second = (await ines.get(path, params={"limit": 1})).json()
    async with science_arbiter(service) as ana:
        assert (await ana.get(path)).status_code == 403
    assert (first["count"], first["complete"], first["decisions_per_day"], first["pace_measured"]) == (3, True, 2.0,
                                                                                                        False)
    assert [(c["position"], c["request_id"], c["requester_entity"], c["status"], c["area_km2"], c["mission"])
            for c in first["cases"]] == [(i + 1, request_id, f"ent-{i}", "in-review", LARGE, "pleiades")
                                         for i, request_id in enumerate(ids)]
    for c in first["cases"]:
        ahead = timedelta(days=c["position"] / 2.0)
        assert c["expected_decision_date"] in {str((before + ahead).date()), str((after + ahead).date())}
    assert (second["count"], second["decisions_per_day"], second["pace_measured"]) == (2, 1 / 14, True)
    assert [(c["position"], c["request_id"]) for c in second["cases"]] == [(1, ids[0])]
