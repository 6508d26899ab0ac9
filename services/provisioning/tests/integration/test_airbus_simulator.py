"""The Airbus connector against the real simulator process (tools/airbus-simulator, started here on a free
port) with two connector "replicas" sharing the ordering gate on the real FerretDB: an order placed by both
at once exists once; under injected faults (20 % 5xx, 10 % time-outs, 10 % 429) ten orders are each placed
exactly once, counted in the simulator's own log; and the ordering calls reach Airbus at least 1 s apart."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import httpx
import pytest
from dinamis_common.mongo import make_mongo_client
from dinamis_testkit.polling import until
from dinamis_testkit.simulator import start_simulator
from provisioning_service.adapters.airbus import AirbusConnector, AirbusPolicy
from provisioning_service.adapters.ordering_gate import OrderingGate
from provisioning_service.service_layer.airbus_port import AirbusError

pytestmark = pytest.mark.integration

KEY = "test-airbus-key"
POLICY = AirbusPolicy(timeout=1.5, connect_timeout=1.0, retry_attempts=8, retry_initial=0.1, retry_max=1.0,
                      retry_jitter=0.1, retry_total=60.0, breaker_failures=20, breaker_reset=1.0)
AOI = {"type": "Polygon", "coordinates": [[[1.40, 43.55], [1.46, 43.55], [1.46, 43.60], [1.40, 43.60], [1.40, 43.55]]]}


def archive(ref: str) -> dict:
    return {"customer_reference": ref, "kind": "archive", "mission": "PLEIADES",
            "items": [{"scene_id": f"DS_PHR1A_{ref}", "aoi": AOI}]}


@pytest.fixture
async def gates(servers, unique):
    """The ordering gates of two replicas: each its own database client, one shared collection."""
    clients = [make_mongo_client(servers.mongodb_uri, f"replica-{i}") for i in range(2)]
    database = f"test_airbus_{unique}"
    yield [OrderingGate(c[database]["airbus_ordering"], interval=1.0, lease=20.0, holder=f"replica-{i}", poll=0.02)
           for i, c in enumerate(clients)]
    await clients[0].drop_database(database)
    for c in clients:
        await c.close()


async def simulated(tmp_path, gates, faults, **extra: str):
    proc, url = await start_simulator(tmp_path / "airbus", KEY, faults=faults, seed=12, timeout_hold_seconds=5,
                                      **extra)
    connectors = [AirbusConnector(url, KEY, gate, POLICY) for gate in gates]
    return proc, url, connectors


async def stop(proc: asyncio.subprocess.Process, connectors: list[AirbusConnector]) -> None:
    for c in connectors:
        await c.close()
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def simulator_log(url: str) -> dict:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{url}/_simulator/orders", timeout=10)).json()


def assert_paced(calls: list[str]) -> None:
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in calls]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert all(g >= 0.999 for g in gaps), f"ordering calls closer than 1 s: {min(gaps)} s"


async def test_one_order_placed_by_two_replicas_at_once_exists_once(tmp_path, gates):
    proc, url, (a, b) = await simulated(tmp_path, gates, {})
    try:
        refs = [f"req-{i}" for i in range(3)]
        placed = await asyncio.gather(*[c.place_order(archive(r)) for r in refs for c in (a, b)])
        log = await simulator_log(url)
        assert log["by_customer_reference"] == {r: 1 for r in refs}
        assert len({o.id for o in placed}) == 3  # both replicas got the same order for a reference
        assert_paced(log["ordering_calls"])
        order = await a.order(placed[0].id)
        assert order.customer_reference == "req-0" and order.kind == "archive"
        assert (await b.find_order("req-0")).id == order.id
        assert await a.find_order("nobody") is None
    finally:
        await stop(proc, [a, b])


async def test_under_faults_ten_orders_are_each_placed_exactly_once_at_most_one_ordering_call_per_second(
        tmp_path, gates):
    proc, url, (a, b) = await simulated(tmp_path, gates, {"5xx": 0.2, "timeout": 0.1, "429": 0.1})
    try:
        refs = [f"req-{i}" for i in range(10)]

        async def place(connector: AirbusConnector, ref: str) -> str:
            for _ in range(5):  # the flow tries a transient failure again later
                try:
                    return (await connector.place_order(archive(ref))).id
                except AirbusError as e:
                    assert e.transient, e.reason
            raise AssertionError(f"{ref} was never placed")

        # both replicas try every order, as after a rebalance or a replayed event
        ids = await asyncio.wait_for(asyncio.gather(*[place(c, r) for r in refs for c in (a, b)]), timeout=280)
        log = await simulator_log(url)
        assert log["by_customer_reference"] == {r: 1 for r in refs}
        assert len(set(ids)) == 10 and ids[0::2] == ids[1::2]
        assert_paced(log["ordering_calls"])
        assert len(log["ordering_calls"]) >= 10
    finally:
        await stop(proc, [a, b])


async def test_the_whole_api_through_the_connector_with_tokens_that_expire(tmp_path, gates):
    proc, _url, (a, b) = await simulated(tmp_path, gates, {}, token_seconds="3", received_seconds="4")
    try:
        contract = await a.contract()
        assert contract["id"] == "CTR-1" and contract["remaining_credit"] == Decimal("250000.00")
        small = {"type": "Polygon", "coordinates": [[[1.40, 43.55], [1.42, 43.55], [1.42, 43.57], [1.40, 43.55]]]}
        price = await a.price({**archive("req-p"), "items": [{"scene_id": "DS_PHR1A_1", "aoi": small}]})
        assert price.price > 0 and price.invoiced_km2 == 25.0 and 0 < price.area_km2 < 25  # the invoicing minimum

        start = datetime.now(UTC) + timedelta(days=3)
        window = {"start": start.isoformat(), "end": (start + timedelta(days=10)).isoformat()}
        tasking = {"mission": "PLEIADES", "aoi": AOI, "window": window, "mode": "mono", "max_cloud_cover": 20}
        past = {"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}
        no = await a.feasibility({**tasking, "window": past})
        assert not no.feasible and "past" in no.reason
        yes = await b.feasibility(tasking)
        assert yes.feasible and yes.automation == "AUTOMATIC" and yes.expires_at > datetime.now(UTC)
        with pytest.raises(AirbusError) as refused:
            await a.place_order({**tasking, "customer_reference": "req-t0", "kind": "tasking", "feasibility_id": no.id})
        assert not refused.value.transient and "negative" in refused.value.reason

        placed = await a.place_order({**tasking, "customer_reference": "req-t", "kind": "tasking",
                                      "feasibility_id": yes.id})
        assert placed.status == "received" and placed.kind == "tasking" and placed.price > 0

        async def delivered():
            order = await b.order(placed.id)
            return order if order.status == "delivered" else None

        order = await until(delivered, timeout=30)  # longer than the 3 s tokens: renewed on the way
        assert order.coverage_percent == 100.0 and order.updated_at is not None
        attempts = await a.acquisitions(placed.id)
        assert [(x.attempt, x.outcome, x.coverage_percent) for x in attempts] == [(1, "cloudy", 60.0),
                                                                                  (2, "acquired", 100.0)]
        assert [x.attempt for x in await a.acquisitions(placed.id, since=1)] == [2]
        package = zipfile.ZipFile(io.BytesIO(await a.delivery(placed.id)))
        assert {n.split("_")[0] for n in package.namelist()} >= {"DIM", "IMG", "PREVIEW"}

        with pytest.raises(AirbusError) as late:
            await a.cancel(placed.id)
        assert not late.value.transient and late.value.status == 409 and "no longer be cancelled" in late.value.reason
        fresh = await a.place_order(archive("req-c"))
        assert (await b.cancel(fresh.id)).status == "cancelled"
        with pytest.raises(AirbusError) as missing:
            await a.order("ORD-NOPE")
        assert not missing.value.transient and missing.value.status == 404
    finally:
        await stop(proc, [a, b])
