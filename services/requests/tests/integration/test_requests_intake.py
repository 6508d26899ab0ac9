"""Submitting archive and tasking requests through the served requests service, on the real Kafka and
FerretDB, with the real catalogue (pgstac, the test kit's named airbus-archive scenes) and arbitration
served beside it: archive scenes looked up and clipped, every refusal a 422 that says what to change
and stores and announces nothing, a catalogue that does not answer a 503 with Retry-After (nothing
stored), and who sees which request."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts, arbitration, requests
from dinamis_testkit.archive import archive_request, archive_scene, square, tasking_request
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.service import sandbox
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.accounts import GROUP as ENTITY_GROUP
from requests_service.entrypoints.consumers.arbitration import GROUP as REVIEW_GROUP
from requests_service.settings import Settings

from .conftest import archive_catalogue, serve_dependencies

pytestmark = pytest.mark.integration

CELL = "pleiades-science"


class Stack:
    def __init__(self, service, down, reviews) -> None:
        self.service, self.down, self.reviews = service, down, reviews

    async def lab(self, service=None, missions=("pleiades", "spot-6-7")) -> str:
        service = service or self.service
        ent = f"ent-{uuid.uuid4().hex[:8]}"
        approved = accounts.EntityApprovedV1(
            entity_id=ent, name="Laboratoire des dunes", category="research-education", kind="scientific",
            country="FR", status="approved", eligible_missions=list(missions), version=1, approved_by="admin-1",
            approved_at=datetime.now(UTC), certificate_serial="01")
        await service.upstream.publish(CloudEvent(type=accounts.ENTITY_APPROVED, source=accounts.SOURCE,
                                                  subject=ent, data=approved.model_dump(mode="json")))
        await service.upstream.consumed()
        return ent

    async def opened(self, request_id: str) -> None:
        case = f"case-{request_id}"
        await self.reviews.publish(CloudEvent(
            type=arbitration.CASE_OPENED, source=arbitration.SOURCE, subject=case,
            data=arbitration.CaseOpenedV1(case_id=case, request_id=request_id, cell=CELL, mission="pleiades",
                                          area_km2=9.0, opened_at=datetime.now(UTC)).model_dump(mode="json")))
        await self.reviews.consumed()


@pytest.fixture(scope="module")
async def stack(servers, tmp_path_factory):
    async with archive_catalogue(servers.postgres_dsn) as dsn, \
            sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
        urls = await serve_dependencies(box, dsn)
        service = await box.serve("requests", create_app, Settings, publishes=[requests.TOPIC],
                                  listens_to=accounts.ENTITY_TOPIC, consumed_by=ENTITY_GROUP, **urls)
        # the same service with a catalogue and arbitration that do not answer (ports nothing listens on)
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as alone:
            down = await alone.serve("requests", create_app, Settings, listens_to=accounts.ENTITY_TOPIC,
                                     consumed_by=ENTITY_GROUP, catalogue_url=f"http://127.0.0.1:{free_port()}",
                                     arbitration_url=f"http://127.0.0.1:{free_port()}", upstream_timeout_seconds=2)
            yield Stack(service, down, await box.publisher(arbitration.TOPIC, REVIEW_GROUP))


async def announced(stack: Stack, request_id: str, timeout: float = 15.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            record = await stack.service.published.getone()
            body = json.loads(record.value)
            if dict(record.headers)["ce_type"] == requests.REQUEST_SUBMITTED.encode() and \
                    body["request_id"] == request_id:
                return body


async def test_an_archive_request_over_real_catalogue_scenes_is_clipped_measured_and_announced(stack):
    ent = await stack.lab()
    montpellier, camargue = archive_scene("pleiades", 0), archive_scene("pleiades", 1)
    async with stack.service.client(user="alice", entity=ent, category="scientific") as api:
        body = archive_request([montpellier, camargue], title="Littoral", clip_km=3)
        created = await api.post("/api/requests", json=body)
        assert created.status_code == 201, created.text
        shown = created.json()
        assert (shown["kind"], shown["status"], shown["who_must_act"]) == ("archive", "submitted", "cell")
        assert [s["item_id"] for s in shown["scenes"]] == [montpellier.id, camargue.id]
        assert [s["area_km2"] for s in shown["scenes"]] == [pytest.approx(9.0, rel=0.02)] * 2
        assert shown["area_km2"] == pytest.approx(18.0, rel=0.02) and shown["aoi"]["type"] == "MultiPolygon"
        assert shown["scenes"][0]["platform"] == montpellier.platform and shown["tasking"] is None
        assert shown["quote"]["area_km2"] == shown["area_km2"] and shown["quote"]["currency"] == "EUR"
        assert (await api.get(f"/api/requests/{shown['id']}")).json() == shown
        wire = await announced(stack, shown["id"])
        assert (wire["kind"], [s["item_id"] for s in wire["scenes"]]) == ("archive", [montpellier.id, camargue.id])
        assert wire["quote"]["price_eur"] == shown["quote"]["price_eur"]


async def test_a_tasking_request_keeps_its_window_constraints_and_priority(stack):
    ent = await stack.lab()
    async with stack.service.client(user="bob", entity=ent, category="scientific") as api:
        body = tasking_request(square(3.8, 43.6, 10), days=10, mode="stereo", priority="urgent",
                               funding_reference="ANR-22-0001")
        created = await api.post("/api/requests", json=body)
        assert created.status_code == 201, created.text
        shown = created.json()
        assert (shown["kind"], shown["priority"], shown["funding_reference"]) == ("tasking", "urgent", "ANR-22-0001")
        assert shown["tasking"]["mode"] == "stereo" and shown["tasking"]["max_cloud_cover"] == 20
        assert datetime.fromisoformat(shown["tasking"]["window"]["start"]) == datetime.fromisoformat(
            body["tasking"]["window"]["start"])
        assert shown["area_km2"] == pytest.approx(100, rel=0.02)
        wire = await announced(stack, shown["id"])
        assert (wire["tasking"]["priority"], wire["priority"]) == ("urgent", "urgent")


def refusals():
    scene = archive_scene("pleiades", 0)
    spot = archive_scene("spot-6-7", 0)
    soon = datetime.now(UTC) + timedelta(days=1)
    bowtie = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.7], [3.9, 43.6], [3.8, 43.7], [3.8, 43.6]]]}
    return [
        (archive_request(scene) | {"archive": {"scenes": [{"item_id": "airbus-archive-nowhere"},
                                                          {"item_id": scene.id}]}},
         "archive.scenes: no airbus-archive scene airbus-archive-nowhere in the catalogue"),
        (archive_request(spot, mission="pleiades"), f"archive.scenes[0]: {spot.id} was acquired by {spot.platform}, "
                                                    "not by pleiades"),
        (archive_request(scene, offset_km=(50, 0)), f"archive.scenes[0] ({scene.id}): its aoi does not overlap the "
                                                    "scene"),
        (archive_request(scene, clip_km=1.5), f"archive.scenes[0] ({scene.id}) clipped to its aoi covers 2.25 km²; "
                                              "Airbus produces at least 5 km²: enlarge it"),
        (tasking_request(bowtie), "aoi crosses itself at 3.8500, 43.6500 (lon, lat)"),
        (tasking_request(square(3.8, 43.6, 10), start=soon), "tasking.window.start must be at least 2 days ahead"),
        (tasking_request(square(3.8, 43.6, 10), days=3), "it must last at least 7 days"),
        (tasking_request(square(3.8, 43.6, 10)) | {"extra": 1}, "extra: Extra inputs are not permitted"),
        (tasking_request(square(3.8, 43.6, 10)) | {"justification": " "}, "justification: String should have at least"),
    ]


async def test_every_refusal_says_what_to_change_and_nothing_is_stored_or_announced(stack):
    ent = await stack.lab()
    async with stack.service.client(user="carl", entity=ent, category="scientific") as api:
        for body, message in refusals():
            refused = await api.post("/api/requests", json=body)
            assert refused.status_code == 422, (message, refused.text)
            assert message in refused.json()["message"]
        assert (await api.get("/api/requests")).json()["items"] == []
        # announced nothing: the next submission is the first event of this lab
        ok = await api.post("/api/requests", json=archive_request(archive_scene("pleiades", 0)))
        assert ok.status_code == 201, ok.text
        wire = await announced(stack, ok.json()["id"])
        assert wire["requester"]["entity_id"] == ent
    count = await stack.service.db["requests"].count_documents({"entity_id": ent})
    assert count == 1


async def test_a_catalogue_that_does_not_answer_is_a_503_with_retry_after_and_nothing_is_stored(stack):
    ent = await stack.lab(stack.down)
    async with stack.down.client(user="dora", entity=ent, category="scientific") as api:
        for body in (archive_request(archive_scene("pleiades", 0)), tasking_request(square(3.8, 43.6, 10))):
            refused = await api.post("/api/requests", json=body)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] and "try again" in refused.json()["message"]
        assert (await api.get("/api/requests")).json()["items"] == []
    assert await stack.down.db["requests"].count_documents({}) == 0


async def test_a_requester_sees_their_entitys_requests_an_arbiter_their_cells_and_nobody_else(stack):
    ent, other = await stack.lab(), await stack.lab()
    svc = stack.service
    async with svc.client(user="alice2", entity=ent, category="scientific") as alice, \
            svc.client(user="bob2", entity=ent, category="scientific") as colleague, \
            svc.client(user="eve2", entity=other, category="scientific") as stranger, \
            svc.client(user="carol2", entity=None, roles=["arbiter"], cells=[CELL]) as arbiter, \
            svc.client(user="ivan2", entity=None, roles=["arbiter"], cells=["institutional"]) as other_arbiter, \
            svc.client(user="oscar2", entity=None, roles=["operator"]) as operator:
        created = await alice.post("/api/requests", json=archive_request(archive_scene("pleiades", 0)))
        request_id = created.json()["id"]
        assert (await colleague.get(f"/api/requests/{request_id}")).status_code == 200
        assert [r["id"] for r in (await colleague.get("/api/requests")).json()["items"]] == [request_id]
        assert (await stranger.get(f"/api/requests/{request_id}")).status_code == 404
        assert (await stranger.get("/api/requests")).json()["items"] == []
        assert (await arbiter.get(f"/api/requests/{request_id}")).status_code == 404  # not in its cell yet
        await stack.opened(request_id)
        assert (await arbiter.get(f"/api/requests/{request_id}")).json()["cell"] == CELL
        assert request_id in [r["id"] for r in (await arbiter.get("/api/requests")).json()["items"]]
        assert (await other_arbiter.get(f"/api/requests/{request_id}")).status_code == 404
        refused = await other_arbiter.get("/api/requests", params={"cell": CELL})
        assert refused.status_code == 403
        assert refused.json()["message"] == f"you arbitrate for institutional, not {CELL}"
        listed = (await operator.get("/api/requests", params={"cell": CELL})).json()["items"]
        assert request_id in [r["id"] for r in listed]
        cancel = await colleague.post(f"/api/requests/{request_id}/cancel", json={"reason": "mine now"})
        assert cancel.status_code == 403  # reading is not acting: only the requester cancels
