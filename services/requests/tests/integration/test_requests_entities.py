"""The requests service learns entities from the accounts events on the real Kafka and FerretDB,
and lets only members of an approved, eligible entity submit (observed through its HTTP API and
the submitted events it publishes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts
from dinamis_testkit.archive import archive_request, archive_scene, tasking_request
from requests_service.adapters.entities import MongoEntityDirectory
from requests_service.domain.entities import Entity

pytestmark = pytest.mark.integration

AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}
NOW = datetime.now(UTC)
PAYLOADS = {  # each entity event's contract model and its event-specific fields
    accounts.ENTITY_SUBSCRIBED: (accounts.EntitySubscribedV1, {"subscribed_at": NOW}),
    accounts.LICENCE_ACCEPTED: (accounts.LicenceAcceptedV1, {"documents": [], "accepted_at": NOW}),
    accounts.ENTITY_APPROVED: (accounts.EntityApprovedV1, {"approved_by": "admin-1", "approved_at": NOW,
                                                           "certificate_serial": "01"}),
    accounts.ENTITY_SUSPENDED: (accounts.EntitySuspendedV1, {"suspended_by": "admin-1", "suspended_at": NOW,
                                                             "reason": "membership fee unpaid"}),
}


def entity_event(kind: str, entity_id: str, status: str, version: int, missions=()) -> CloudEvent:
    """A scientific lab's event as the accounts service publishes it."""
    model, extra = PAYLOADS[kind]
    payload = model(entity_id=entity_id, name="Laboratoire des dunes", category="research-education",
                    kind="scientific", country="FR", status=status, eligible_missions=list(missions),
                    version=version, **extra)
    return CloudEvent(type=kind, source=accounts.SOURCE, subject=entity_id, data=payload.model_dump(mode="json"))


def client(service, entity: str | None) -> httpx.AsyncClient:
    """A user of ``entity`` whose token still says ``institutional``."""
    return service.client(user=f"user-{uuid.uuid4().hex[:6]}", entity=entity, category="institutional")


async def submit(api: httpx.AsyncClient, mission: str = "pleiades") -> httpx.Response:
    return await api.post("/api/requests", json=archive_request(archive_scene(mission), title="Dunes"))


async def submitted_requester(consumer: AIOKafkaConsumer, request_id: str) -> dict:
    async with asyncio.timeout(15):
        async for record in consumer:
            body = json.loads(record.value)
            if body.get("request_id") == request_id:
                return body["requester"]
    raise AssertionError("no submitted event")


async def test_a_user_without_an_entity_may_not_submit(service):
    async with client(service, None) as api:
        refused = await submit(api)
    assert refused.status_code == 403
    assert refused.json()["message"] == "your account is not attached to a subscribed entity"


async def test_only_an_approved_entity_submits_for_its_missions_and_the_newest_snapshot_wins(service):
    accounts_relay, submitted = service.upstream, service.published
    ent = f"ent-{uuid.uuid4().hex[:8]}"
    async with client(service, ent) as api:
        unknown = await submit(api)
        assert unknown.status_code == 403
        assert unknown.json()["message"] == (f"entity {ent} is not a subscribed DINAMIS member "
                                             "(or its subscription has not reached this service yet)")

        approved = entity_event(accounts.ENTITY_APPROVED, ent, "approved", 3, ["pleiades"])
        await accounts_relay.publish(approved, approved)  # delivered twice
        await accounts_relay.consumed()
        created = await submit(api)
        assert created.status_code == 201, created.text
        # routed by the entity's kind as announced (scientific), not the token's stale claim
        assert (await submitted_requester(submitted, created.json()["id"]))["entity_category"] == "scientific"
        spot = await submit(api, "spot-6-7")
        assert spot.status_code == 403
        assert spot.json()["message"] == (f"entity {ent} is not eligible for spot-6-7 "
                                          "(a licence to accept or a review pending)")
        # what the portal shows before the requester fills in a form
        shown = (await api.get("/api/requests/eligibility")).json()
        assert shown == {"entity_id": ent, "missions": [
            {"mission": "pleiades", "eligible": True, "reason": None},
            {"mission": "spot-6-7", "eligible": False, "reason": spot.json()["message"]}]}

        late = [entity_event(accounts.ENTITY_SUBSCRIBED, ent, "subscribed", 1),
                entity_event(accounts.LICENCE_ACCEPTED, ent, "awaiting-review", 2)]
        await accounts_relay.publish(*late)  # older versions arriving after the approval
        await accounts_relay.consumed()
        assert (await submit(api)).status_code == 201

        await accounts_relay.publish(entity_event(accounts.ENTITY_SUSPENDED, ent, "suspended", 4), approved)
        await accounts_relay.consumed()
        suspended = await submit(api)
        assert suspended.status_code == 403
        assert suspended.json()["message"] == (f"entity {ent}'s subscription is suspended: "
                                               "requests open once it is approved")
        assert len((await api.get("/api/requests")).json()["items"]) == 2


async def test_concurrent_snapshots_leave_the_newest_in_the_directory(service):
    directory = MongoEntityDirectory(service.db["entities"])
    versions = [5, 2, 8, 1, 7, 3, 6, 4]

    def snapshot(entity_id: str, v: int) -> Entity:
        return Entity(entity_id, "Race", "scientific", "approved", frozenset({"pleiades"}), v)

    for round_ in range(5):
        ent = f"ent-race-{round_}"
        applied = await asyncio.gather(*(directory.apply(snapshot(ent, v)) for v in versions))
        assert (await directory.get(ent)).version == 8
        assert applied[versions.index(8)] and not applied[versions.index(1)]
        assert not await directory.apply(snapshot(ent, 8))  # the same snapshot again changes nothing


async def test_a_bulky_body_is_refused_before_any_work_and_nothing_is_stored(service):
    """The body passes the 1 MiB HTTP limit, but a member no schema knows (or a string beyond its bound)
    is refused before it is parsed further: 422, no request stored, no event. (Every member being
    bounded, no valid body makes an event larger than a Kafka record.)"""
    ent = f"ent-{uuid.uuid4().hex[:8]}"
    approved = entity_event(accounts.ENTITY_APPROVED, ent, "approved", 1, ["pleiades"])
    await service.upstream.publish(approved)
    await service.upstream.consumed()
    async with client(service, ent) as api:
        bulky = {**AOI, "note": "é" * 470_000}  # 940 kB once sent as UTF-8
        refused = await api.post("/api/requests", json=tasking_request(bulky))
        assert refused.status_code == 422, refused.text
        assert "aoi.note: Extra inputs are not permitted" in refused.json()["message"]
        long_reason = await api.post("/api/requests", json=tasking_request(AOI) | {"justification": "é" * 470_000})
        assert long_reason.status_code == 422, long_reason.text
        assert (await api.get("/api/requests")).json()["items"] == []
        assert (await submit(api)).status_code == 201  # the same caller, a normal request: accepted
