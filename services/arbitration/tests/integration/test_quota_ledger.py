"""The quota ledger on the real FerretDB and Kafka.

* Several replicas (each its own connection and ``AggregateStore``) accept at the same moment more
  than the cell's budget can take: never overdrawn, and each refused acceptance is told what is left.
* Through the served service: acceptances hold, a cancellation releases (each once, whatever the
  deliveries), an automatic acceptance the budget cannot take is not recorded (the case waits for a
  person, told what is left), and anyone reads
  the exact burn-down over HTTP without a token."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arbitration_service.adapters.ledger_repository import MongoLedgerRepository
from arbitration_service.bootstrap import create_app
from arbitration_service.domain.ledger import QuotaExceeded
from arbitration_service.domain.policy import QuotaPolicy
from arbitration_service.service_layer import quotas
from arbitration_service.settings import Settings
from dinamis_common.messaging.broker import KafkaAuth
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.mongo import make_mongo_client
from dinamis_contracts import provisioning, quota, requests
from dinamis_testkit.events import Publisher
from dinamis_testkit.fixtures import served_service
from dinamis_testkit.inprocess import InProcessServers, free_port
from dinamis_testkit.polling import until
from gateway_service.bootstrap import create_app as gateway_app
from gateway_service.settings import Settings as GatewaySettings

from .conftest import policy_config

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


quota_service = served_service("arbitration", create_app, Settings, fixture_name="quota_service",
                               publishes=[quota.TOPIC], listens_to=requests.TOPIC,
                               arbitration_auto_rules={"pleiades-science": [
                                   {"name": "archive-within-free-quota", "kind": "archive-within-free-quota"}]},
                               arbitration_quota_policy=policy_config(1000))


async def test_concurrent_acceptances_on_several_replicas_never_overdraw(servers, unique):
    database = f"t{unique}_quota"
    clients = [make_mongo_client(servers.mongodb_uri, f"replica-{i}") for i in range(4)]
    policy = QuotaPolicy.from_config(policy_config(1000))
    now = datetime.now(UTC)
    try:
        replicas = [quotas.Quotas(MongoLedgerRepository(AggregateStore(c[database]["quota_ledgers"])), policy,
                                  lambda: now) for c in clients]
        await replicas[0].ledgers.ensure_indexes()

        async def accept(i: int) -> str:
            replica = replicas[i % len(replicas)]
            try:
                await quotas.hold(replica, quotas.HoldQuota(f"req-{i}", "pleiades-science", "pleiades", 150, now))
            except QuotaExceeded as refused:
                return str(refused)
            return "held"

        outcomes = await asyncio.gather(*(accept(i) for i in range(12)))  # 1800 km² asked of 1000

        assert outcomes.count("held") == 6
        refusals = [o for o in outcomes if o != "held"]
        assert refusals == [f"the pleiades-science cell has 100 km² left of its 1000 km² budget for "
                            f"{policy.period_of('pleiades', now).label}: 150 km² cannot be accepted (accept a "
                            "smaller area, or wait for the next period)"] * 6
        for replica in replicas:  # every replica reads the same exact balance
            b = (await quotas.burndown(replica, "pleiades-science")).balances
            assert (b.held_m2, b.remaining_m2) == (900_000_000, 100_000_000)
        doc = await clients[0][database]["quota_ledgers"].find_one()
        assert (doc["hold_m2"], doc["version"]) == (900_000_000, 6)  # the totals only, one version per hold
        entries = await clients[0][database]["quota_entries"].find().to_list()
        assert sorted((e["kind"], e["m2"], e["applied"]) for e in entries) == [("hold", 150_000_000, True)] * 6
    finally:
        await clients[0].drop_database(database)
        for c in clients:
            await c.close()


async def test_entries_whose_writer_stopped_before_applying_are_applied_or_dropped(servers, unique):
    """A writer killed between recording an entry and applying it: asked again, the hold is applied
    once; the sweep applies a stale entry the budget takes and drops one it does not."""
    database = f"t{unique}_quota"
    client = make_mongo_client(servers.mongodb_uri, "settle")
    policy = QuotaPolicy.from_config(policy_config(1000))
    now = datetime.now(UTC)
    period = policy.period_of("pleiades", now).label
    try:
        ledgers = MongoLedgerRepository(AggregateStore(client[database]["quota_ledgers"]))
        q = quotas.Quotas(ledgers, policy, lambda: now)
        await ledgers.ensure_indexes()
        await quotas.hold(q, quotas.HoldQuota("req-0", "pleiades-science", "pleiades", 100, now))
        entries = client[database]["quota_entries"]
        old = now - timedelta(minutes=5)
        for case, m2 in (("req-1", 300_000_000), ("req-2", 700_000_000), ("req-3", 400_000_000)):
            await ledgers.place(case, "pleiades-science", period)
            await entries.insert_one({"_id": f"hold:{case}", "cell": "pleiades-science", "period": period,
                                      "case": case, "kind": "hold", "m2": m2, "applied": False, "at": old})

        b = await quotas.hold(q, quotas.HoldQuota("req-1", "pleiades-science", "pleiades", 300, now))  # asked again
        assert b is not None and b.held_m2 == 400_000_000
        assert await quotas.settle(q) == 2  # 600 km² left: req-3's 400 fit, req-2's 700 do not
        b = (await quotas.burndown(q, "pleiades-science")).balances
        assert (b.held_m2, b.remaining_m2) == (800_000_000, 200_000_000)
        stored = {e["_id"]: e["applied"] for e in await entries.find().to_list()}
        assert stored == {"hold:req-0": True, "hold:req-1": True, "hold:req-3": True}
        assert await quotas.settle(q) == 0
    finally:
        await client.drop_database(database)
        await client.close()


@asynccontextmanager
async def through_gateway(service) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway in front of the served service, called without a token."""
    settings = GatewaySettings(arbitration_url=service.url, http_port=free_port(), rate_limits_enabled=False,
                               auth_issuer=service.settings.auth_issuer, auth_jwks_url=service.settings.auth_jwks_url)
    running = InProcessServers()
    await running.start(gateway_app(settings), settings.http_port, "gateway")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=15) as client:
            yield client
    finally:
        await running.stop()


def submission(request_id: str, km2: float) -> CloudEvent:
    """An archive request within the free quota: the cell's rule accepts it."""
    now = datetime.now(UTC)
    data = requests.RequestSubmittedV1(
        request_id=request_id, title="Dunes", mission="pleiades", aoi=AOI, area_km2=km2, submitted_at=now,
        requester=requests.Requester(user_id="u-1", entity_id="ent-1", entity_category="scientific"),
        kind="archive", quote=requests.QuoteV1(
            area_km2=km2, free_km2=km2, over_quota_km2=0, billed_km2=0, price_eur="0.00", payer="nobody",
            basis="within the free quota", invoicing_minimum_km2=25, cell="pleiades-science", period="",
            quoted_at=now, valid_until=now + timedelta(hours=24)))
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


def cancellation(request_id: str) -> CloudEvent:
    data = requests.RequestCancelledV1(request_id=request_id, reason="no longer needed", cancelled_by="u-1",
                                       cancelled_at=datetime.now(UTC))
    return CloudEvent(type=requests.REQUEST_CANCELLED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_holds_and_a_release_give_the_exact_public_burndown(quota_service):
    service = quota_service
    r1, r2, r3 = (f"req-{uuid.uuid4().hex[:8]}" for _ in range(3))
    period = QuotaPolicy.from_config(policy_config(1000)).period_of("pleiades", datetime.now(UTC)).label
    async with service.client(user=None) as anyone:  # no token at all
        async def burndown(held: float, released: float = 0.0):
            body = (await anyone.get("/api/arbitration/public/burndown", params={"cell": "pleiades-science"})).json()
            return body if (body["held_km2"], body["released_km2"]) == (held, released) else None

        # accepted by the automatic rule: each acceptance holds its km² once, whatever the deliveries
        await service.upstream.publish(submission(r1, 400), submission(r2, 300), submission(r1, 400))
        assert await until(lambda: burndown(700.0)) == {
            "cell": "pleiades-science", "period": period, "budget_km2": 1000.0, "held_km2": 700.0,
            "committed_km2": 0.0, "released_km2": 0.0, "remaining_km2": 300.0}

        # accepted by the rule too, but 400 km² do not fit in what is left: not accepted, nothing held,
        # the case waits in review for a person, its history saying what is left
        await service.upstream.publish(submission(r3, 400))
        async with service.client(roles=["admin"]) as admin:
            async def waiting():
                found = await admin.get(f"/api/arbitration/cases/{r3}")
                return found.json() if found.status_code == 200 else None
            case = await until(waiting)
        assert (case["status"], case["decisions"]) == ("in-review", [])
        assert case["history"][-1]["by"] == "rule:archive-within-free-quota"
        assert case["history"][-1]["note"].startswith(
            "not accepted automatically: the pleiades-science cell has 300 km² left of its 1000 km² budget")
        assert (await burndown(700.0))["remaining_km2"] == 300.0

        # the requester cancels r2 (delivered twice): its 300 km² go back to the budget, once
        await service.upstream.publish(cancellation(r2), cancellation(r2))
        assert await until(lambda: burndown(400.0, 300.0)) == {
            "cell": "pleiades-science", "period": period, "budget_km2": 1000.0, "held_km2": 400.0,
            "committed_km2": 0.0, "released_km2": 300.0, "remaining_km2": 600.0}
        async with through_gateway(service) as gateway:  # the gateway lets /api/<service>/public/… by, tokenless
            same = await gateway.get("/api/arbitration/public/burndown",
                                     params={"cell": "pleiades-science", "period": period})
        assert (same.status_code, same.json()["remaining_km2"]) == (200, 600.0)

        for params, words in (({"cell": "mars-science"}, "cell"), ({"cell": "spot-science", "period": "2026-Q5"},
                                                                       "period"),
                              ({"cell": "spot-science", "period": "2026-Q1"}, "counts its budget by year")):
            refused = await anyone.get("/api/arbitration/public/burndown", params=params)
            assert refused.status_code == 422 and words in refused.json()["message"], refused.json()

    events = []
    async with asyncio.timeout(20):
        async for record in service.published:
            body = json.loads(record.value)
            if body["case_id"] in (r1, r2, r3):
                events.append((dict(record.headers)["ce_type"].decode(), body["case_id"], body["km2"],
                               body["balance"]["remaining_km2"]))
            if len(events) == 3:
                break
    assert [e[:3] for e in events if e[0] == quota.QUOTA_RELEASED] == [(quota.QUOTA_RELEASED, r2, 300.0)]
    assert sorted(e[1:3] for e in events if e[0] == quota.QUOTA_HELD) == sorted([(r1, 400.0), (r2, 300.0)])
    assert [e[3] for e in events][1:] == [300.0, 600.0]  # the balance after each: both held, then r2 released
    later = await service.published.getmany(timeout_ms=1000)  # the second deliveries announced nothing
    assert not any(json.loads(r.value)["case_id"] in (r1, r2, r3) for rs in later.values() for r in rs)


def _provisioning(kind: str, request_id: str, **fields) -> CloudEvent:
    at = datetime.now(UTC)
    data = {"delivered": lambda: provisioning.DeliveryCompletedV1(
                order_id=f"o-{request_id}", request_id=request_id, mission="pleiades", collection="pleiades",
                item={"id": f"PHR-{request_id}"}, delivered_at=at, **fields),
            "failed": lambda: provisioning.OrderFailedV1(order_id=f"o-{request_id}", request_id=request_id,
                                                         reason="Airbus refused the order", failed_at=at)}[kind]()
    kind_type = {"delivered": provisioning.DELIVERY_COMPLETED, "failed": provisioning.ORDER_FAILED}[kind]
    return CloudEvent(type=kind_type, source=provisioning.SOURCE, subject=request_id, data=data.model_dump(mode="json"))


async def test_a_delivery_commits_what_was_delivered_and_releases_the_rest_and_a_failed_order_releases_all(
        quota_service):
    service = quota_service
    delivered, failed = (f"req-{uuid.uuid4().hex[:8]}" for _ in range(2))
    orders = Publisher(service.settings.kafka_bootstrap_servers,  # as provisioning's relay would
                       service.settings.kafka_namespace + provisioning.TOPIC, auth=KafkaAuth.of(service.settings))
    await orders.start()
    try:
        async with service.client(user=None) as anyone:
            async def burndown():
                return (await anyone.get("/api/arbitration/public/burndown",
                                         params={"cell": "pleiades-science"})).json()

            before = await burndown()
            await service.upstream.publish(submission(delivered, 100), submission(failed, 50))
            await until(lambda: _when(burndown(), lambda b: b["held_km2"] == before["held_km2"] + 150))
            # 92.5 of the 100 km² accepted were delivered (told twice); the other order failed
            event = _provisioning("delivered", delivered, ordered_km2=100, delivered_km2=92.5)
            await orders.publish(event, event, _provisioning("failed", failed))
            after = await until(lambda: _when(burndown(), lambda b: b["held_km2"] == before["held_km2"]))
        assert (after["committed_km2"] - before["committed_km2"], after["released_km2"] - before["released_km2"]) == (
            92.5, 57.5)
        assert after["remaining_km2"] == before["remaining_km2"] - 92.5
    finally:
        await orders.stop()


async def _when(awaitable, condition):
    value = await awaitable
    return value if condition(value) else None
