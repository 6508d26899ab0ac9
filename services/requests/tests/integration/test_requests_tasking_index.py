"""The pending-tasking index on the real FerretDB: found by place, time and mission; a replayed
addition changes nothing; a removal wins whatever the order (before the addition, at the same
moment); big and small areas find each other across the grid's levels; and the projection is kept
by the service's own consumer on the real Kafka."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.mongo import make_mongo_client
from dinamis_contracts import requests as req
from dinamis_testkit.fixtures import served_service
from requests_service.adapters.tasking_index import MongoTaskingIndex, stored_keys
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.tasking_index import GROUP
from requests_service.service_layer.ports import PendingTasking
from requests_service.settings import Settings
from shapely.geometry import shape

pytestmark = pytest.mark.integration

START = datetime(2026, 6, 1, tzinfo=UTC)


def square(lon: float, lat: float, km: float) -> dict:
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat],
                                                [lon, lat + dlat], [lon, lat]]]}


def pending(aoi: dict, start: datetime = START, days: int = 30, mission: str = "pleiades",
            rid: str | None = None) -> PendingTasking:
    return PendingTasking(rid or f"req-{uuid.uuid4().hex[:8]}", mission, "stereo", aoi, start,
                          start + timedelta(days=days))


@pytest.fixture
async def index(servers, unique):
    client = make_mongo_client(servers.mongodb_uri, "tests")
    db = client[f"t{unique}_tasking"]
    found = MongoTaskingIndex(db["pending_taskings"], db["pending_tasking_removals"])
    await found.ensure_indexes()
    yield found
    await client.drop_database(db.name)
    await client.close()


async def ids(index: MongoTaskingIndex, aoi: dict, start: datetime = START, days: int = 30,
              mission: str = "pleiades") -> list[str]:
    return [p.request_id for p in await index.overlapping(mission, aoi, start, start + timedelta(days=days), 10)]


async def test_pending_taskings_are_found_by_place_time_and_mission_largest_overlap_first(index):
    here = square(2.30, 45.20, 10)
    half = pending(square(2.30 + 5 / (111.32 * math.cos(math.radians(45.2))), 45.20, 10))
    whole = pending(here)
    later = pending(here, START + timedelta(days=60))
    spot = pending(here, mission="spot-6-7")
    far = pending(square(5.0, 47.0, 10))
    for p in (half, whole, later, spot, far):
        assert await index.add(p)
    assert await ids(index, here) == [whole.request_id, half.request_id]
    assert await ids(index, here, mission="spot-6-7") == [spot.request_id]
    assert await ids(index, here, START + timedelta(days=70)) == [later.request_id]
    found = (await index.overlapping("pleiades", here, START, START + timedelta(days=30), 1))[0]
    assert found.aoi == whole.aoi and found.mode == "stereo" and found.window_start == START


def stored(p: PendingTasking) -> int:
    """The documents of one pending tasking: one per tile it is stored under (``stored_keys``)."""
    return len(stored_keys(p.mission, shape(p.aoi)))


async def test_a_replayed_addition_changes_nothing(index):
    p = pending(square(2.30, 45.20, 10))
    assert await index.add(p)
    before = await index.entries.count_documents({"request_id": p.request_id})
    assert await index.add(p)
    assert await index.entries.count_documents({"request_id": p.request_id}) == before == stored(p)
    assert await ids(index, p.aoi) == [p.request_id]


async def test_a_removal_wins_in_any_order(index):
    here = square(2.30, 45.20, 10)
    kept, removed, early = pending(here), pending(here), pending(here)
    await index.add(kept)
    await index.add(removed)
    await index.remove(removed.request_id, START)
    await index.remove(early.request_id, START)  # its removal arrives first (a retried addition)
    assert not await index.add(early)
    await index.remove(removed.request_id, START)  # replayed
    assert await ids(index, here) == [kept.request_id]
    assert await index.entries.count_documents({"request_id": early.request_id}) == 0


async def test_a_removal_at_the_same_moment_as_its_addition_wins(index):
    here = square(2.30, 45.20, 10)
    racing = [pending(here) for _ in range(12)]
    await asyncio.gather(*(index.add(p) for p in racing), *(index.remove(p.request_id, START) for p in racing))
    assert await ids(index, here) == []
    assert await index.entries.count_documents({}) == 0


async def test_big_and_small_areas_find_each_other_across_levels(index):
    small = pending(square(2.30, 45.20, 5))
    region = pending(square(0.5, 44.0, 400))  # spans more than 16 one-degree tiles: stored from 10°
    assert await index.add(small) and await index.add(region)
    assert set(await ids(index, square(2.31, 45.21, 2))) == {small.request_id, region.request_id}
    assert set(await ids(index, square(-1.0, 43.0, 1000))) == {small.request_id, region.request_id}
    assert await ids(index, square(1.0, 44.5, 5)) == [region.request_id]


async def test_the_sweep_forgets_old_tombstones_and_past_windows(index):
    past = pending(square(2.30, 45.20, 10), START - timedelta(days=100))
    await index.add(past)
    await index.remove("gone", START - timedelta(days=40))
    assert await index.sweep(removed_before=START - timedelta(days=31), ended_before=START) == 1 + stored(past)
    assert await index.entries.count_documents({}) == 0 and await index.removals.count_documents({}) == 0


# the projection kept by the service's own consumer group on the real Kafka
service = served_service("requests", create_app, Settings, fixture_name="tasking_service",
                         listens_to=req.TOPIC, consumed_by=GROUP)


def submitted(p: PendingTasking, kind: str = "tasking") -> CloudEvent:
    payload = req.RequestSubmittedV1(
        request_id=p.request_id, title="Glacier", mission=p.mission, aoi=p.aoi, area_km2=100.0,
        requester=req.Requester(user_id="u1", entity_id="e1", entity_category="scientific"),
        submitted_at=START - timedelta(days=10), kind=kind, justification="monitoring",
        tasking=req.TaskingV1(window_start=p.window_start, window_end=p.window_end, max_cloud_cover=20,
                              max_incidence_angle=30, mode=p.mode) if kind == "tasking" else None)
    return CloudEvent(type=req.REQUEST_SUBMITTED, source=req.SOURCE, subject=p.request_id,
                      data=payload.model_dump(mode="json"))


def status(request_id: str, new: str) -> CloudEvent:
    payload = req.RequestStatusChangedV1(request_id=request_id, status=new, previous_status="in_review",
                                         changed_at=START - timedelta(days=5))
    return CloudEvent(type=req.REQUEST_STATUS_CHANGED, source=req.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


def cancelled(request_id: str) -> CloudEvent:
    payload = req.RequestCancelledV1(request_id=request_id, reason="no longer needed", cancelled_by="u1",
                                     cancelled_at=START - timedelta(days=5))
    return CloudEvent(type=req.REQUEST_CANCELLED, source=req.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


async def test_the_consumer_keeps_the_pending_set_of_the_services_own_events(tasking_service):
    here = square(6.80, 45.90, 10)
    accepted, rejected, withdrawn, archive = pending(here), pending(here), pending(here), pending(here)
    upstream = tasking_service.upstream
    await upstream.publish(submitted(accepted), submitted(rejected), submitted(withdrawn),
                           submitted(archive, kind="archive"), status(accepted.request_id, "accepted"),
                           status(rejected.request_id, "rejected"), cancelled(withdrawn.request_id))
    await upstream.consumed()
    db = tasking_service.db
    index = MongoTaskingIndex(db["pending_taskings"], db["pending_tasking_removals"])
    assert await ids(index, here) == [accepted.request_id]
    # everything delivered again, from a replay: nothing changes, the rejected one stays out
    await upstream.publish(submitted(rejected), submitted(accepted), status(rejected.request_id, "rejected"))
    await upstream.consumed()
    assert await ids(index, here) == [accepted.request_id]
    assert await db["pending_taskings"].count_documents({"request_id": accepted.request_id}) == stored(accepted)
