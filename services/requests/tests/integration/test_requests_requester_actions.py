"""What the requester sees and does, on the real Kafka and FerretDB through the served service:
the cell's questions answered (back to review, as often as the cell asks), a request cancelled
(announced once, never moved out of cancelled by what arrives later), refused after it was
ordered, and invisible to anybody else. Stand-ins for the arbitration and provisioning relays
publish what those services would."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts, arbitration, provisioning, requests
from dinamis_testkit.archive import archive_request, archive_scene, square, tasking_request
from dinamis_testkit.events import Publisher
from dinamis_testkit.service import ServedService, sandbox
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.accounts import GROUP as ENTITY_GROUP
from requests_service.entrypoints.consumers.arbitration import GROUP as REVIEW_GROUP
from requests_service.entrypoints.consumers.provisioning import GROUP as ORDER_GROUP
from requests_service.settings import Settings

from .conftest import archive_catalogue, serve_dependencies

pytestmark = pytest.mark.integration

AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}
CELL = "pleiades-science"


class Published:
    """The request events the service published, read once and kept (each test looks for its own)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer, self.seen = consumer, []

    async def of(self, kind: str, request_id: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while True:
                found = [body for t, body in self.seen if t == kind and body.get("request_id") == request_id]
                if len(found) >= count:
                    return found
                record = await self.consumer.getone()
                self.seen.append((dict(record.headers)["ce_type"].decode(), json.loads(record.value)))


@dataclass
class Stack:
    service: ServedService
    arbitration: Publisher  # as the arbitration relay would publish
    provisioning: Publisher  # as the provisioning relay would publish
    published: Published

    async def lab_member(self) -> tuple[httpx.AsyncClient, str]:
        """A member of a freshly approved lab (and their user id)."""
        ent, user = f"ent-{uuid.uuid4().hex[:8]}", f"user-{uuid.uuid4().hex[:6]}"
        approved = accounts.EntityApprovedV1(
            entity_id=ent, name="Laboratoire des dunes", category="research-education", kind="scientific",
            country="FR", status="approved", eligible_missions=["pleiades"], version=1, approved_by="admin-1",
            approved_at=datetime.now(UTC), certificate_serial="01")
        await self.service.upstream.publish(CloudEvent(type=accounts.ENTITY_APPROVED, source=accounts.SOURCE,
                                                       subject=ent, data=approved.model_dump(mode="json")))
        await self.service.upstream.consumed()
        return self.service.client(user=user, entity=ent, category="scientific"), user

    async def decide(self, request_id: str, decision: str, reason: str = "", by: str = "arbiter-1",
                     opened: bool = False) -> None:
        events = []
        now = datetime.now(UTC)
        case = f"case-{request_id}"
        if opened:
            events.append(CloudEvent(type=arbitration.CASE_OPENED, source=arbitration.SOURCE, subject=case,
                                     data=arbitration.CaseOpenedV1(case_id=case, request_id=request_id, cell=CELL,
                                                                   mission="pleiades", area_km2=89.0,
                                                                   opened_at=now).model_dump(mode="json")))
        if decision:
            events.append(CloudEvent(type=arbitration.DECISION_RECORDED, source=arbitration.SOURCE, subject=case,
                                     data=arbitration.DecisionRecordedV1(
                                         case_id=case, request_id=request_id, cell=CELL, mission="pleiades",
                                         decision=decision, reason=reason, decided_by=by, decided_at=now,
                                         accepted_area_km2=89.0 if decision.startswith("accepted") else 0.0,
                                     ).model_dump(mode="json")))
        await self.arbitration.publish(*events)
        await self.arbitration.consumed()

    async def order(self, request_id: str) -> None:
        order = provisioning.OrderRecordedV1(order_id=f"ord-{request_id[:8]}", request_id=request_id,
                                             mission="pleiades", area_km2=89.0, recorded_at=datetime.now(UTC),
                                             cell=CELL)
        await self.provisioning.publish(CloudEvent(type=provisioning.ORDER_RECORDED, source=provisioning.SOURCE,
                                                   subject=order.order_id, data=order.model_dump(mode="json")))
        await self.provisioning.consumed()


@pytest.fixture(scope="module")
async def stack(servers, tmp_path_factory):
    async with archive_catalogue(servers.postgres_dsn) as dsn, \
            sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
        urls = await serve_dependencies(box, dsn)
        service = await box.serve("requests", create_app, Settings, publishes=[requests.TOPIC],
                                  listens_to=accounts.ENTITY_TOPIC, consumed_by=ENTITY_GROUP, **urls)
        yield Stack(service, await box.publisher(arbitration.TOPIC, REVIEW_GROUP),
                    await box.publisher(provisioning.TOPIC, ORDER_GROUP), Published(service.published))


async def submitted(api: httpx.AsyncClient, body: dict | None = None) -> str:
    created = await api.post("/api/requests", json=body or archive_request(archive_scene("pleiades"), title="Dunes"))
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_the_requester_answers_each_question_of_the_cell_and_the_request_goes_back_to_review(stack):
    api, alice = await stack.lab_member()
    async with api, stack.service.client(user="bob", entity=None) as bob:
        request_id = await submitted(api)
        assert (await api.get(f"/api/requests/{request_id}")).json()["who_must_act"] == "cell"
        await stack.decide(request_id, "information-requested", "which season?", opened=True)

        shown = (await api.get(f"/api/requests/{request_id}")).json()
        assert (shown["status"], shown["who_must_act"]) == ("information_requested", "requester")
        assert shown["history"][-1] | {"at": None} == {"status": "information_requested", "at": None,
                                                       "note": "information-requested: which season?",
                                                       "by": "arbiter-1"}
        assert [h["by"] for h in shown["history"]] == [alice, "arbitration", "arbiter-1"]
        listed = (await api.get("/api/requests")).json()["items"]
        assert [(r["id"], r["who_must_act"]) for r in listed] == [(request_id, "requester")]

        # somebody else neither answers nor cancels it: for them it does not exist
        for path, body in (("information", {"answer": "winter"}), ("cancel", {"reason": "mine now"})):
            stranger = await bob.post(f"/api/requests/{request_id}/{path}", json=body)
            assert stranger.status_code == 404, stranger.text
            assert stranger.json()["message"] == f"no request {request_id} visible to you"

        for round_, (answer, question) in enumerate([("summer", "which sensor mode?"), ("stereo", "")], start=1):
            answered = await api.post(f"/api/requests/{request_id}/information", json={"answer": f"  {answer} "})
            assert answered.status_code == 200, answered.text
            body = answered.json()
            assert (body["status"], body["who_must_act"]) == ("in_review", "cell")
            assert (body["history"][-1]["note"], body["history"][-1]["by"]) == (f"answer: {answer}", alice)
            provided = await stack.published.of(requests.INFORMATION_PROVIDED, request_id, count=round_)
            assert (provided[-1]["answer"], provided[-1]["provided_by"]) == (answer, alice)
            again = await api.post(f"/api/requests/{request_id}/information", json={"answer": answer})
            assert again.status_code == 200 and again.json()["history"] == body["history"]  # changed nothing
            if question:
                await stack.decide(request_id, "information-requested", question)
                assert (await api.get(f"/api/requests/{request_id}")).json()["status"] == "information_requested"

        await stack.decide(request_id, "accepted-partially", "half the area")
        decided = (await api.get(f"/api/requests/{request_id}")).json()
        assert (decided["status"], decided["who_must_act"]) == ("partially_accepted", "operator")
        late = await api.post(f"/api/requests/{request_id}/information", json={"answer": "more"})
        assert late.status_code == 409
        assert late.json()["message"] == ("the request is partially accepted: information can be provided only "
                                          "while the cell is asking for it")
        moves = await stack.published.of(requests.REQUEST_STATUS_CHANGED, request_id, count=6)
        assert [m["status"] for m in moves] == ["in_review", "information_requested", "in_review",
                                                "information_requested", "in_review", "partially_accepted"]
        # everything published before the last move has been read: the repeated answers announced nothing
        assert len(await stack.published.of(requests.INFORMATION_PROVIDED, request_id, count=2)) == 2


async def test_a_cancelled_request_is_announced_once_and_stays_cancelled(stack):
    api, alice = await stack.lab_member()
    async with api, stack.service.client(user="carol", entity=None, roles=["arbiter"], cells=[CELL]) as arbiter:
        request_id = await submitted(api)
        await stack.decide(request_id, "", opened=True)
        assert (await arbiter.get(f"/api/requests/{request_id}")).status_code == 200  # staff may read it...
        refused = await arbiter.post(f"/api/requests/{request_id}/cancel", json={"reason": "not yours"})
        assert refused.status_code == 403  # ...but not cancel it
        assert refused.json()["message"] == f"only the requester of {request_id} may cancel it"
        speaks = await arbiter.post(f"/api/requests/{request_id}/information", json={"answer": "for them"})
        assert speaks.status_code == 403
        assert (await api.post(f"/api/requests/{request_id}/cancel", json={"reason": " "})).status_code == 422
        too_long = await api.post(f"/api/requests/{request_id}/cancel", json={"reason": "x" * 1001})
        assert too_long.status_code == 422

        cancelled = await api.post(f"/api/requests/{request_id}/cancel", json={"reason": "funding withdrawn"})
        assert cancelled.status_code == 200, cancelled.text
        body = cancelled.json()
        assert (body["status"], body["who_must_act"]) == ("cancelled", None)
        assert (body["history"][-1]["note"], body["history"][-1]["by"]) == ("cancelled: funding withdrawn", alice)
        [announced] = await stack.published.of(requests.REQUEST_CANCELLED, request_id)
        assert (announced["reason"], announced["cancelled_by"]) == ("funding withdrawn", alice)
        again = await api.post(f"/api/requests/{request_id}/cancel", json={"reason": "funding withdrawn"})
        assert again.status_code == 200 and again.json() == body

        # the cell and provisioning had not heard of it yet
        await stack.decide(request_id, "accepted", "within quota", by="rule:archive-in-quota")
        await stack.order(request_id)
        after = (await api.get(f"/api/requests/{request_id}")).json()
        assert (after["status"], after["who_must_act"]) == ("cancelled", None)
        assert after["order_id"] == f"ord-{request_id[:8]}"  # visible, for the platform to withdraw it
        assert [h["status"] for h in after["history"]][-2:] == ["accepted", "ordered"]
        assert after["history"][-1]["note"].endswith("(after the cancellation: the request stays cancelled)")
        answer = await api.post(f"/api/requests/{request_id}/information", json={"answer": "too late"})
        assert answer.status_code == 409
        assert len(await stack.published.of(requests.REQUEST_CANCELLED, request_id)) == 1


async def test_an_ordered_request_can_no_longer_be_cancelled(stack):
    api, _ = await stack.lab_member()
    async with api:
        request_id = await submitted(api)
        await stack.decide(request_id, "accepted", "within quota", opened=True)
        await stack.order(request_id)
        shown = (await api.get(f"/api/requests/{request_id}")).json()
        assert (shown["status"], shown["who_must_act"]) == ("ordered", "airbus")
        refused = await api.post(f"/api/requests/{request_id}/cancel", json={"reason": "changed my mind"})
        assert refused.status_code == 409
        assert refused.json()["message"] == "already ordered: it can no longer be cancelled"
        assert (await api.get(f"/api/requests/{request_id}")).json()["status"] == "ordered"


async def test_a_tasking_request_is_cancelled_only_until_48_h_before_its_window(stack):
    api, _ = await stack.lab_member()
    async with api:
        soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, hours=1)  # 49 h ahead: still in time
        in_time = await submitted(api, tasking_request(square(3.8, 43.6, 10), start=soon))
        cancelled = await api.post(f"/api/requests/{in_time}/cancel", json={"reason": "plans changed"})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        [announced] = await stack.published.of(requests.REQUEST_CANCELLED, in_time)
        assert announced["reason"] == "plans changed"
