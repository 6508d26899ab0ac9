"""Expiry on the real FerretDB: a tasking whose window ended before it was ordered is found by the
repository's ``overdue`` query and expires once, announcing the move; one still in its window, one
ordered and an archive request are left alone."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.mongo import make_mongo_client
from requests_service.adapters.repository import MongoRequestRepository
from requests_service.domain.model import Request, Requester
from requests_service.domain.spec import RequestSpec, Tasking
from requests_service.service_layer import handlers
from requests_service.service_layer.context import Requests, utcnow

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def request(rid: str, window_end: datetime | None, at: datetime) -> Request:
    tasking = Tasking(window_end - timedelta(days=10), window_end, 20, 30) if window_end else None
    spec = RequestSpec(kind="tasking" if tasking else "archive", title=rid, mission="pleiades", justification="j",
                       aoi=AOI, area_km2=100, tasking=tasking)
    return Request.submit(id=rid, spec=spec, requester=Requester("u-1", "ent-1", "scientific"), at=at)


async def test_only_taskings_whose_window_ended_unordered_expire_once(servers, unique):
    client = make_mongo_client(servers.mongodb_uri, "expiry")
    try:
        db = client[f"t{unique}_expiry"]
        repo = MongoRequestRepository(AggregateStore(db["requests"]))
        await repo.ensure_indexes()
        now = utcnow()
        for r in (request("ended", now - timedelta(hours=1), now - timedelta(days=20)),
                  request("running", now + timedelta(days=5), now - timedelta(days=20)),
                  request("ordered", now - timedelta(hours=1), now - timedelta(days=20)),
                  request("archive", None, now - timedelta(days=20))):
            assert await repo.add(r)
        ordered = await repo.get("ordered")
        ordered.ordered("ord-1", now - timedelta(days=2))
        assert await repo.save(ordered)
        ctx = Requests(requests=repo, entities=None)  # type: ignore[arg-type]  # expiry reads no entity
        assert [r.id for r in await repo.overdue(now, 10)] == ["ended"]
        assert await handlers.expire_overdue(ctx) == 1
        later = dataclasses.replace(ctx, clock=lambda: now + timedelta(minutes=1))
        assert await handlers.expire_overdue(later) == 0  # once
        statuses = {rid: (await repo.get(rid)).status for rid in ("ended", "running", "ordered", "archive")}
        assert statuses == {"ended": "expired", "running": "submitted", "ordered": "ordered",
                            "archive": "submitted"}
        change = await db["requests_changes"].find_one({"aggregate": "ended", "version": 2})
        [record] = change["outbox"].values()  # what the relay publishes
        assert record["headers"]["ce_type"] == "fr.dinamis.requests.request.status-changed.v1"
        assert json.loads(record["value"])["status"] == "expired"
    finally:
        await client.drop_database(f"t{unique}_expiry")
        await client.close()


async def test_requests_stored_before_expiry_existed_get_their_expiry_at_start(servers, unique):
    client = make_mongo_client(servers.mongodb_uri, "expiry")
    try:
        db = client[f"t{unique}_expiry_old"]
        repo = MongoRequestRepository(AggregateStore(db["requests"]))
        await repo.ensure_indexes()
        now = utcnow()
        for r in (request("old-ended", now - timedelta(hours=1), now - timedelta(days=20)),
                  request("old-archive", None, now - timedelta(days=20))):
            assert await repo.add(r)
        await db["requests"].update_many({}, {"$unset": {"expires_at": ""}})  # as stored before issue 10
        assert await repo.overdue(now, 10) == []  # unseen by the sweep
        await repo.ensure_indexes()  # the next start
        assert [r.id for r in await repo.overdue(now, 10)] == ["old-ended"]
        assert (await db["requests"].find_one({"_id": "old-archive"}))["expires_at"] is None
    finally:
        await client.drop_database(f"t{unique}_expiry_old")
        await client.close()
