"""PostgreSQL (under FerretDB, so every service's store) stopped for 20 s in the middle of the flow:
the consumers wait it out instead of dead-lettering, callers are told to come back (503 with
Retry-After, never a 500), and every request accepted completes once the database is back."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from dinamis_testkit.archive import archive_request, archive_scene
from dinamis_testkit.statuses import ORDERED_OR_LATER

pytestmark = [pytest.mark.integration, pytest.mark.flow]

SCENE = archive_scene()  # 9 km² of it per request: accepted by the test profile's rule


async def _dead_letters(bootstrap: str, auth) -> dict[str, int]:
    """How many records each dead-letter topic holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **auth.client_options())
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.endswith(".dlq")]
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        starts = await consumer.beginning_offsets(partitions) if partitions else {}
        totals: dict[str, int] = dict.fromkeys(topics, 0)
        for tp in partitions:
            totals[tp.topic] += ends[tp] - starts[tp]
        return totals
    finally:
        await consumer.stop()


async def _keycloak_back(running_stack, timeout: float = 120.0) -> None:
    """Keycloak keeps the connections the restart closed in its pool and answers 500 until it has
    tried each: the stack is left as it was found, signing people in again, for the tests after."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await asyncio.to_thread(running_stack.token, "outage-probe")
            return
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(1)


async def test_the_database_stopped_for_20_seconds_mid_flow_dead_letters_nothing_and_everything_completes(
        running_stack, servers, eventually):
    from dinamis_cli.stack import process
    from dinamis_cli.stack.servers import server

    profile = running_stack.profile
    postgres = server("postgres")
    assert process.read_pid(profile, "postgres"), "this test stops the stack's own PostgreSQL"
    before = await _dead_letters(servers.kafka, servers.kafka_auth)
    owner = f"outage-{uuid.uuid4().hex[:6]}"
    token = running_stack.token(owner)
    ids: list[str] = []
    refused: list[int] = []
    async with running_stack.client(token) as api:
        async def submit(i: int) -> None:
            body = archive_request(SCENE, title=f"outage {i}")
            for _ in range(200):
                try:
                    r = await api.post("/api/requests", json=body, headers={"idempotency-key": f"{owner}-{i}"})
                except Exception:  # a connection dropped while the database is away
                    await asyncio.sleep(0.5)
                    continue
                if r.status_code in (200, 201):
                    ids.append(r.json()["id"])
                    return
                refused.append(r.status_code)
                assert r.status_code == 503 and "retry-after" in r.headers, (r.status_code, r.text)
                await asyncio.sleep(0.5)
            raise AssertionError(f"request {i} never accepted")

        first = [asyncio.create_task(submit(i)) for i in range(10)]
        await asyncio.gather(*first)
        # events of those are now mid-flow; an immediate stop, as a crash or a failover would be
        await asyncio.to_thread(process.stop, profile, "postgres", signal.SIGQUIT, 30)
        try:
            during = [asyncio.create_task(submit(i)) for i in range(10, 16)]
            await asyncio.sleep(20)
        finally:
            await asyncio.to_thread(postgres.start, profile)
            await _keycloak_back(running_stack)
        await asyncio.gather(*during)

        async def all_ordered():
            bodies = [(await api.get(f"/api/requests/{i}")).json() for i in ids]
            return bodies if all(b.get("status") in ORDERED_OR_LATER for b in bodies) else None

        bodies = await eventually(all_ordered, timeout=180, interval=1.0)
    assert len(bodies) == 16
    assert refused and set(refused) == {503}  # the API said "come back", the client did
    after = await _dead_letters(servers.kafka, servers.kafka_auth)
    grown = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
    assert grown == {}, f"dead-lettered during the outage: {grown}"
