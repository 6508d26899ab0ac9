"""The requests service's queue client (HttpQueues) against the arbitration service served on the
real Kafka and FerretDB, with the caller's token forwarded: a member of the requester's entity gets
the request's cell, position and expected decision date (what the cell's own queue shows); another
entity, a request with no case yet and a decided one get ``None``; an arbitration service that does
not answer is UpstreamUnavailable."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests
from dinamis_testkit.devtokens import mint_token
from dinamis_testkit.fixtures import served_service
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.polling import until
from requests_service.adapters.queues import HttpQueues
from requests_service.domain.errors import UpstreamUnavailable
from requests_service.service_layer.ports import QueuePlace

pytestmark = pytest.mark.integration
arbitration = served_service("arbitration", create_app, Settings, fixture_name="arbitration",
                             listens_to=requests.TOPIC)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def submitted(request_id: str, entity: str, priority: str = "standard") -> CloudEvent:
    now = datetime.now(UTC)
    data = requests.RequestSubmittedV1(
        request_id=request_id, title="Vineyards", mission="pleiades", aoi=AOI, area_km2=120.0, submitted_at=now,
        requester=requests.Requester(user_id=f"u-{entity}", entity_id=entity, entity_category="institutional"),
        kind="tasking", priority=priority, justification="harvest survey",
        tasking=requests.TaskingV1(window_start=now + timedelta(days=3), window_end=now + timedelta(days=12),
                                   max_cloud_cover=10, max_incidence_angle=25))
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_the_place_of_a_request_in_review_for_its_entity_and_none_for_others(arbitration):
    tag = uuid.uuid4().hex[:6]
    ahead, mine = f"req-{tag}-ahead", f"req-{tag}-mine"
    await arbitration.upstream.publish(submitted(ahead, f"ent-{tag}-x", "urgent"), submitted(mine, f"ent-{tag}-m"))
    member = mint_token(*arbitration.keys, user="u-m", entity=f"ent-{tag}-m")
    stranger = mint_token(*arbitration.keys, user="u-s", entity=f"ent-{tag}-s")
    client = HttpQueues(arbitration.url)
    try:
        async def both_in_queue():
            place = await client.place(member, mine)
            return place if place is not None and place.position >= 2 else None
        place = await until(both_in_queue)
        async with arbitration.client(user="ines", roles=["arbiter"], cells=["institutional"]) as ines:
            queue = (await ines.get("/api/arbitration/cells/institutional/queue")).json()["cases"]
            seen = next(c for c in queue if c["request_id"] == mine)
            assert place == QueuePlace("institutional", seen["position"], date.fromisoformat(
                seen["expected_decision_date"]))
            assert [c["request_id"] for c in queue] == [ahead, mine]  # the urgent one first
            assert await client.place(stranger, mine) is None  # another entity learns nothing
            assert await client.place(member, f"req-{tag}-never") is None
            decided = await ines.post(f"/api/arbitration/cases/{ahead}/decisions",
                                      json={"decision": "rejected", "reason": "outside the programme"})
            assert decided.status_code == 201
            assert (await client.place(member, mine)).position == 1
            await ines.post(f"/api/arbitration/cases/{mine}/decisions", json={"decision": "accepted"})
        assert await client.place(member, mine) is None  # decided: no longer in a queue
    finally:
        await client.close()


async def test_an_arbitration_service_that_does_not_answer_is_unavailable():
    client = HttpQueues(f"http://127.0.0.1:{free_port()}", timeout=1)
    try:
        with pytest.raises(UpstreamUnavailable, match="did not answer"):
            await client.place("tok", "req-1")
    finally:
        await client.close()
