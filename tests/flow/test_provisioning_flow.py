"""Issue 12's journey, every service a real process of the test stack on the real Kafka, FerretDB,
PostgreSQL, object store and Airbus simulator: an accepted archive request and an accepted tasking
request (acquired in two attempts: the simulator's weather is cloudy at 60 %, then clear) are ordered
from Airbus once each, delivered into the object store and the shared catalogue, where a user of
**another** entity finds them with pystac-client; the ledger commits exactly the delivered km² and
the requests end ``closed``. Then, with Airbus failing a share of calls (5xx, time-outs, 429), every
order is still placed exactly once (the simulator's own log) at no more than one call a second.

The Pléiades science cell is this module's alone in the flow suite (its burn-down is compared
before and after)."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from dinamis_testkit.archive import archive_request, square, tasking_request
from pystac_client import Client

pytestmark = [pytest.mark.integration, pytest.mark.flow]

CELL = "pleiades-science"
EXACT = 1e-5  # km²: the ledger counts whole m²


def _simulator(running_stack) -> str:
    from dinamis_cli.stack.servers import airbus_url

    return airbus_url(running_stack.profile)


async def _simulator_log(running_stack) -> dict:
    async with httpx.AsyncClient(base_url=_simulator(running_stack), timeout=10) as sim:
        r = await sim.get("/_simulator/orders")
    assert r.status_code == 200, r.text
    return r.json()


async def _set_faults(running_stack, faults: dict) -> None:
    async with httpx.AsyncClient(base_url=_simulator(running_stack), timeout=10) as sim:
        r = await sim.put("/_simulator/faults", json=faults)
    assert r.status_code in (200, 204), r.text


async def _burndown(running_stack) -> dict:
    async with running_stack.client() as anonymous:
        r = await anonymous.get("/api/arbitration/public/burndown", params={"cell": CELL})
    assert r.status_code == 200, r.text
    return r.json()


async def _closed(api, request_id: str, eventually, timeout: float = 240) -> dict:
    async def probe():
        body = (await api.get(f"/api/requests/{request_id}")).json()
        if body["status"] in ("failed", "cancelled", "expired"):
            raise AssertionError(f"request {request_id} ended {body['status']}: {body['history'][-1]}")
        return body if body["status"] == "closed" else None

    try:
        return await eventually(probe, timeout=timeout, interval=1.0)
    except AssertionError as exc:
        if "ended" in str(exc):
            raise
        last = (await api.get(f"/api/requests/{request_id}")).json()
        raise AssertionError(f"request {request_id} never closed: {last}") from None


async def _order(ops, request_id: str) -> dict:
    [order] = (await ops.get("/api/provisioning/orders", params={"request_id": request_id})).json()["items"]
    return order


def _somewhere_in_france(rng: random.Random) -> dict:
    return square(rng.uniform(-0.5, 5.5), rng.uniform(44.0, 48.5), 5)  # 25 km², drawn anew each run


async def test_an_archive_and_a_tasking_request_end_in_the_shared_catalogue_with_the_delivered_km2_committed(
        running_stack, eventually):
    tag = uuid.uuid4().hex[:6]
    requester = running_stack.token(f"scientist-{tag}", category="scientific")
    arbiter = running_stack.token(f"arbiter-{tag}", roles=("arbiter",), cells=(CELL,))
    operator = running_stack.token(f"operator-{tag}", roles=("operator",))
    stranger = running_stack.token(f"agent-{tag}", category="institutional")  # another entity
    before = await _burndown(running_stack)
    async with running_stack.client(requester) as me, running_stack.client(arbiter) as cell, \
            running_stack.client(operator) as ops:
        archive = await me.post("/api/requests", json=archive_request(running_stack.scene("pleiades"),
                                                                      title=f"Archive {tag}", clip_km=4))
        assert archive.status_code == 201, archive.text
        tasking = await me.post("/api/requests", json=tasking_request(
            _somewhere_in_france(random.Random()), title=f"Tasking {tag}"))
        assert tasking.status_code == 201, tasking.text
        a, t = archive.json()["id"], tasking.json()["id"]

        async def accepted():  # the tasking waits for a person of the cell (the rule takes archives only)
            r = await cell.post(f"/api/arbitration/cases/{t}/decisions",
                                json={"decision": "accepted", "reason": "fits the programme"})
            return r if r.status_code == 201 else None
        await eventually(accepted, timeout=60, interval=0.5)

        a_body, t_body = await asyncio.gather(_closed(me, a, eventually), _closed(me, t, eventually))
        a_order, t_order = await _order(ops, a), await _order(ops, t)

    # the requester followed each step, the tasking's two attempts included
    assert [h["status"] for h in a_body["history"]] == [
        "submitted", "in_review", "accepted", "ordered", "delivered", "closed"]
    assert [h["status"] for h in t_body["history"]] == [
        "submitted", "in_review", "accepted", "ordered", "acquiring", "acquiring", "delivered", "closed"]
    assert [h["note"].split(":", 1)[1].strip().split(",")[0] for h in t_body["history"] if h["status"] == "acquiring"] \
        == ["cloudy", "acquired"]
    assert t_body["coverage_percent"] == 100.0
    for body, order in ((a_body, a_order), (t_body, t_order)):
        assert (order["status"], body["delivered_item"]) == ("delivered", f"pleiades/{order['item_id']}")

    # one Airbus order each, whatever was retried
    log = await _simulator_log(running_stack)
    assert (log["by_customer_reference"].get(a), log["by_customer_reference"].get(t)) == (1, 1)

    # a user of another entity finds both in the shared catalogue, with their assets in the object store
    def search() -> list:
        catalogue = Client.open(f"{running_stack.gateway}/stac", headers={"authorization": f"Bearer {stranger}"})
        return list(catalogue.search(collections=["pleiades"], ids=[a_order["item_id"], t_order["item_id"]]).items())
    found = await asyncio.to_thread(search)
    assert sorted(i.id for i in found) == sorted([a_order["item_id"], t_order["item_id"]])
    for item in found:
        assert item.properties["dinamis:request_id"] in (a, t) and item.properties["license"] == "proprietary"
        hrefs = [asset.href for asset in item.assets.values()]
        assert hrefs and all(h.startswith(f"s3://deliveries/pleiades/{item.properties['dinamis:request_id']}/")
                             for h in hrefs), hrefs
    from dinamis_cli.stack.servers import objectstore_keys, objectstore_url
    from dinamis_common.objectstore import ObjectStore
    store = ObjectStore(objectstore_url(running_stack.profile), *objectstore_keys(running_stack.profile, "admin"))
    assert all([await store.exists(asset.href) for item in found for asset in item.assets.values()])

    # the ledger committed exactly what was delivered, and holds nothing more for them
    delivered = a_order["delivered_km2"] + t_order["delivered_km2"]
    async def settled():
        now = await _burndown(running_stack)
        return now if abs(now["held_km2"] - before["held_km2"]) <= EXACT else None
    after = await eventually(settled, timeout=60, interval=0.5)
    assert abs(after["committed_km2"] - before["committed_km2"] - delivered) <= EXACT, (before, after, delivered)
    assert abs(after["remaining_km2"] - (before["remaining_km2"] - delivered)) <= EXACT


async def test_under_airbus_faults_every_order_is_placed_once_at_most_one_call_a_second(running_stack, eventually):
    tag = uuid.uuid4().hex[:6]
    requester = running_stack.token(f"scientist-faults-{tag}", category="scientific")
    started = datetime.now(UTC)
    await _set_faults(running_stack, {"5xx": 0.2, "timeout": 0.1, "429": 0.1, "seed": 12})
    try:
        async with running_stack.client(requester) as me:
            ids = []
            for i in range(6):  # within the free quota: the test profile's rule accepts each
                r = await me.post("/api/requests", json=archive_request(
                    running_stack.scene("pleiades", i % 2), title=f"Faults {tag} {i}", clip_km=3,
                    offset_km=(i * 0.3, 0.0)))
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            await asyncio.gather(*(_closed(me, i, eventually, timeout=600) for i in ids))
    finally:
        await _set_faults(running_stack, {})
    log = await _simulator_log(running_stack)
    assert [log["by_customer_reference"].get(i) for i in ids] == [1] * len(ids)  # exactly once each
    calls = sorted(datetime.fromisoformat(c.replace("Z", "+00:00")) for c in log["ordering_calls"])
    calls = [c for c in calls if c >= started]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(calls)]
    assert len(calls) >= len(ids) and min(gaps) >= 1.0, gaps
