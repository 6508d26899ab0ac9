"""Acceptances checked against the cell's quota on the real Kafka and FerretDB.

* Through the served service (1000 km² for Pléiades in pleiades-science): two arbiters accept two
  cases at the same moment that together overdraw; exactly one is recorded (201), the other is
  told what is left (409) and its case waits in review; the burn-down and the quota events show
  exactly the one hold.
* On the service's own repositories: a decision whose attempt died between its hold and its
  record is completed by the sweep, once, at the time the arbiter decided."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from arbitration_service.adapters.ledger_repository import MongoLedgerRepository
from arbitration_service.adapters.repository import MongoCaseRepository
from arbitration_service.bootstrap import create_app
from arbitration_service.domain.policy import QuotaPolicy
from arbitration_service.service_layer import quotas
from arbitration_service.service_layer.context import Arbitration, utcnow
from arbitration_service.service_layer.decisions import settle
from arbitration_service.service_layer.handlers import OpenCase, open_case
from arbitration_service.service_layer.ports import Claim
from arbitration_service.settings import Settings
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.mongo import make_mongo_client
from dinamis_contracts import arbitration, quota, requests
from dinamis_testkit.fixtures import served_service
from dinamis_testkit.polling import until

from .conftest import policy_config

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


small_budget = served_service("arbitration", create_app, Settings, fixture_name="small_budget",
                              publishes=[quota.TOPIC], listens_to=requests.TOPIC,
                              # no automatic rule (the production default): these cases wait for a person
                              arbitration_quota_policy=policy_config(1000))


def submission(request_id: str, km2: float) -> CloudEvent:
    data = requests.RequestSubmittedV1(
        request_id=request_id, title="Dunes", mission="pleiades", aoi=AOI, area_km2=km2,
        submitted_at=datetime.now(UTC),
        requester=requests.Requester(user_id="u-1", entity_id="ent-1", entity_category="scientific"))
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_two_arbiters_accepting_at_the_same_moment_never_overdraw_the_cell(small_budget):
    service = small_budget
    areas = dict(zip((f"req-{uuid.uuid4().hex[:8]}" for _ in range(2)), (600.0, 500.0), strict=True))
    await service.upstream.publish(*(submission(r, km2) for r, km2 in areas.items()))
    async with service.client(roles=["admin"]) as admin:
        async def opened():
            found = [(await admin.get(f"/api/arbitration/cases/{r}")).status_code for r in areas]
            return found == [200, 200]
        await until(opened)

        arbiters = [service.client(user=user, roles=["arbiter"], cells=["pleiades-science"]) for user in ("ana", "ben")]
        async with arbiters[0] as ana, arbiters[1] as ben:
            answers = await asyncio.gather(*(api.post(f"/api/arbitration/cases/{r}/decisions",
                                                      json={"decision": "accepted", "reason": "fits"})
                                             for api, r in zip((ana, ben), areas, strict=True)))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        won, lost = (answers[0], answers[1]) if answers[0].status_code == 201 else (answers[1], answers[0])
        winner, loser = won.json()["request_id"], next(r for r in areas if r != won.json()["request_id"])
        left = 1000 - areas[winner]
        assert lost.json()["message"].startswith(
            f"the pleiades-science cell has {left:g} km² left of its 1000 km² budget for ")
        assert f"{areas[loser]:g} km² cannot be accepted" in lost.json()["message"]
        waiting = (await admin.get(f"/api/arbitration/cases/{loser}")).json()
        assert (waiting["status"], waiting["decisions"]) == ("in-review", [])

        async with service.client(user=None) as anyone:
            async def burndown():
                body = (await anyone.get("/api/arbitration/public/burndown", params={"cell": "pleiades-science"}))
                return body.json() if body.json()["held_km2"] == areas[winner] else None
            assert (await until(burndown))["remaining_km2"] == left

    holds = []
    async with asyncio.timeout(20):
        async for record in service.published:
            body = json.loads(record.value)
            if body["case_id"] in areas:
                holds.append((dict(record.headers)["ce_type"].decode(), body["case_id"], body["km2"]))
                break
    await asyncio.sleep(2)  # anything else announced about these cases has had its time to come
    later = await service.published.getmany(timeout_ms=1000)
    holds += [(dict(r.headers)["ce_type"].decode(), json.loads(r.value)["case_id"], json.loads(r.value)["km2"])
              for rs in later.values() for r in rs if json.loads(r.value)["case_id"] in areas]
    assert holds == [(quota.QUOTA_HELD, winner, areas[winner])]
    async with service.client(user=None) as anyone:
        body = (await anyone.get("/api/arbitration/public/burndown", params={"cell": "pleiades-science"})).json()
    assert (body["held_km2"], body["remaining_km2"]) == (areas[winner], left)


async def test_a_decision_whose_attempt_died_after_its_hold_is_completed_by_the_sweep(servers, unique):
    database = f"t{unique}_settle"
    client = make_mongo_client(servers.mongodb_uri, "settle")
    try:
        cases = MongoCaseRepository(AggregateStore(client[database]["cases"]))
        q = quotas.Quotas(MongoLedgerRepository(AggregateStore(client[database]["quota_ledgers"])),
                          QuotaPolicy.from_config(policy_config(1000)), utcnow)
        for owner in (cases, q.ledgers):
            await owner.ensure_indexes()
        now = [utcnow()]
        ctx = Arbitration(cases, clock=lambda: now[0], quotas=q, settle_after=timedelta(seconds=30))
        await open_case(ctx, OpenCase("req-1", "pleiades", 400, {"user_id": "u", "entity_category": "scientific"}))
        # an arbiter's attempt claimed the case and held its quota, then its process died
        decided_at = now[0]
        claim = Claim("req-1", "t-1", "accepted-partially", "the coast", 250.0, "ana", decided_at)
        assert await cases.claim(claim) is None
        assert await cases.claim(Claim("req-1", "t-2", "rejected", "no", None, "ben", decided_at)) == claim
        await quotas.hold(q, quotas.HoldQuota("req-1", "pleiades-science", "pleiades", 250.0, at=decided_at))

        assert await settle(ctx) == 0  # its attempt may still be at work
        now[0] = decided_at + timedelta(seconds=31)
        assert await settle(ctx) == 1
        case = await cases.get("req-1")
        assert [(d.decision, d.decided_by, d.decided_at, d.accepted_area_km2) for d in case.decisions] == [
            ("accepted-partially", "ana", decided_at, 250.0)]
        assert await cases.claims_before(now[0], 10) == [] and await settle(ctx) == 0
        change = await client[database]["cases_changes"].find_one({"aggregate": "req-1", "version": 2})
        assert [json.loads(r["value"])["decision"] for r in change["outbox"].values()
                if r["headers"]["ce_type"] == arbitration.DECISION_RECORDED] == ["accepted-partially"]
        b = (await quotas.burndown(q, "pleiades-science")).balances.km2()
        assert (b["held_km2"], b["remaining_km2"]) == (250.0, 750.0)
    finally:
        await client.drop_database(database)
        await client.close()
