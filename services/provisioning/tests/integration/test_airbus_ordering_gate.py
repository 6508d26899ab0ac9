"""The Airbus ordering gate on the real FerretDB: replicas (each its own client and connections) take
turns one at a time, at least the interval apart, and a dead holder's lease is taken over."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise

import pytest
from dinamis_common.mongo import make_mongo_client
from provisioning_service.adapters.ordering_gate import OrderingGate, TurnOver

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(servers, unique):
    clients = [make_mongo_client(servers.mongodb_uri, f"replica-{i}") for i in range(3)]
    database = f"test_gate_{unique}"
    yield [c[database]["airbus_ordering"] for c in clients]
    await clients[0].drop_database(database)
    for c in clients:
        await c.close()


async def test_replicas_take_turns_one_at_a_time_at_least_the_interval_apart(replicas):
    interval = 0.3
    gates = [OrderingGate(tickets, interval=interval, lease=10.0, holder=f"r{i}", poll=0.01)
             for i, tickets in enumerate(replicas)]
    calls: list[tuple[float, float, str]] = []

    async def call(gate: OrderingGate) -> None:
        async with gate.turn():
            start = time.time()
            await asyncio.sleep(0.02)  # the HTTP call
            calls.append((start, time.time(), gate.holder))

    await asyncio.gather(*[call(g) for g in gates for _ in range(4)])
    calls.sort()
    assert len(calls) == 12
    assert {h for *_, h in calls} == {"r0", "r1", "r2"}
    for (_, end, _), (start, _, _) in pairwise(calls):
        assert start - end >= interval - 0.005, calls  # never together, never faster than the interval
    assert await replicas[0].count_documents({}) <= 12


async def test_a_dead_holders_lease_is_taken_over_after_it_expires(replicas):
    dead = OrderingGate(replicas[0], interval=0.1, lease=1.0, holder="dead")
    await dead._acquire()  # took its turn and died: never released
    alive = OrderingGate(replicas[1], interval=0.1, lease=1.0, holder="alive", poll=0.02)
    started = time.monotonic()
    async with alive.turn():
        waited = time.monotonic() - started
    assert 0.9 <= waited < 3.0
    tickets = await replicas[1].find({}, sort=[("n", 1)]).to_list()
    assert [t["holder"] for t in tickets] == ["dead", "alive"]
    assert tickets[0]["released_at"] is None and tickets[1]["released_at"] is not None


async def test_a_turn_used_longer_than_its_lease_is_cut_short_before_anyone_takes_it_over(replicas):
    slow = OrderingGate(replicas[0], interval=0.1, lease=1.0, holder="slow", poll=0.02)
    other = OrderingGate(replicas[1], interval=0.1, lease=1.0, holder="other", poll=0.02)
    cut: list[float] = []

    async def hang() -> None:
        with pytest.raises(TurnOver):
            async with slow.turn():
                await asyncio.sleep(5)  # a call that never answers
        cut.append(time.time())

    async def next_turn() -> float:
        await asyncio.sleep(0.1)
        async with other.turn():
            return time.time()

    started = time.time()
    _, taken = await asyncio.gather(hang(), next_turn())
    assert 0.8 <= cut[0] - started < 1.5  # 90 % of the lease
    first, second = await replicas[0].find({}, sort=[("n", 1)]).to_list()
    assert first["holder"] == "slow" and first["released_at"] < first["expires_at"]  # released before it expired
    assert second["holder"] == "other" and second["acquired_at"] >= first["released_at"] + 0.1  # then the interval
    assert taken >= second["acquired_at"]
