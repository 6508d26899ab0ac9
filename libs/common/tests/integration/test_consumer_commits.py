"""Offsets committed in batches on the real Kafka (and FerretDB for the effects): far fewer commits
than records, lag back to 0 once idle, on revocation and on stop; a crash only makes the
records handled since the last commit come again, each still applied once; no commit ever
passes a record that has not finished, nor one waiting in place."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
import textwrap
from collections.abc import Iterable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from dinamis_common.messaging.broker import ensure_topics
from dinamis_common.messaging.consumer import consumer_topics, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore
from pydantic import BaseModel

pytestmark = pytest.mark.integration

COUNTED = "fr.dinamis.test.thing.counted.v1"
OTHER = "fr.dinamis.test.thing.ignored.v1"  # another group's business: skipped


class Counted(BaseModel):
    n: int


async def _wait_for(predicate, timeout: float = 30.0, every: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(every)


class Log:
    """What was published (partition, offset -> n) and what the handlers finished."""

    def __init__(self) -> None:
        self.at: dict[tuple[int, int], int] = {}
        self.ends: dict[int, int] = {}
        self.finished: set[int] = set()

    def unfinished_before(self, partition: int, offset: int) -> list[int]:
        return [n for (p, o), n in self.at.items() if p == partition and o < offset and n not in self.finished]


async def _publish(servers, topic: str, events: Iterable[tuple[CloudEvent, int | None]], log: Log) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka, acks="all", linger_ms=5,
                                **servers.kafka_auth.client_options())
    await producer.start()
    try:
        sent = [(event, await producer.send(topic, event.body(), key=event.subject.encode(), partition=partition,
                                            headers=[(k, v.encode()) for k, v in event.headers().items()]))
                for event, partition in events]
        for event, future in sent:
            meta = await future
            log.at[(meta.partition, meta.offset)] = event.data["n"]
            log.ends[meta.partition] = max(log.ends.get(meta.partition, 0), meta.offset + 1)
    finally:
        await producer.stop()


async def _committed(servers, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka, **servers.kafka_auth.client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


@pytest.fixture
def commits(monkeypatch):
    """Every OffsetCommit this process sends: (group, {partition: offset}), with what the handlers
    had finished at that moment checked against it (``watch(topic, log)``)."""
    sent: list[tuple[str, dict[int, int]]] = []
    watched: dict[str, Log] = {}
    violations: list[str] = []
    original = AIOKafkaConsumer.commit

    async def commit(self, offsets=None):
        assert offsets is not None, "a commit of the consumer's position, not of what was handled"
        for tp, offset in offsets.items():
            log = watched.get(tp.topic)
            if log is not None and (unfinished := log.unfinished_before(tp.partition, offset)):
                violations.append(f"{tp} committed at {offset} before records {unfinished} finished")
        sent.append((self._group_id, {tp.partition: o for tp, o in offsets.items()}))
        return await original(self, offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", commit)

    class Commits:
        def watch(self, topic: str, log: Log) -> None:
            watched[topic] = log

        def of(self, group: str) -> list[dict[int, int]]:
            return [offsets for g, offsets in sent if g == group]

    yield Commits()
    assert violations == []


@pytest.fixture
async def consumers(servers, unique, subscriber):
    """``start(handler, group=..., **options)``: a broker of its own subscribed to the test's topic
    (3 partitions, created with the group's retry and dead-letter topics)."""
    topic, group = f"it.commits.{unique}", f"tests.commits.{unique}"
    # before anything is published
    await ensure_topics(servers.kafka, consumer_topics(topic, group), auth=servers.kafka_auth)

    async def start(handler, group: str = group, **options):
        return await subscriber(topic, group, handler, service="commit-test", **options)

    return start, topic, group


def _event(n: int, kind: str = COUNTED, subject: str | None = None) -> CloudEvent:
    return CloudEvent(type=kind, source="/tests", subject=subject or f"s{n % 7}", data={"n": n})


async def test_many_records_take_few_commits_and_the_lag_is_0_once_idle(consumers, commits, servers):
    start, topic, group = consumers
    log = Log()
    commits.watch(topic, log)

    async def count(payload: Counted, event: CloudEvent) -> None:
        await asyncio.sleep(0.001)  # a commit may run meanwhile: it must not include this record
        log.finished.add(payload.n)

    # half of the records are of a type this group ignores, as on the platform's topics: skipped
    # unread, they need no work, so they count as finished
    await _publish(servers, topic, ((_event(n, COUNTED if n % 2 else OTHER), None) for n in range(600)), log)
    log.finished.update(range(0, 600, 2))
    await start(dispatch({COUNTED: (Counted, count)}))

    async def all_handled():
        return len(log.finished) == 600

    await _wait_for(all_handled)

    async def lag_is_0():
        return await _committed(servers, group, topic) == log.ends

    await _wait_for(lag_is_0, timeout=5, every=0.2)  # while the consumer still runs, idle
    live = commits.of(group)
    assert 1 <= len(live) <= 30, f"{len(live)} commits for 600 records"


async def test_records_whose_commit_was_delayed_come_again_after_a_kill_and_apply_once(consumers, servers, mongo_db):
    start, topic, group = consumers
    store = AggregateStore(mongo_db["counters"])
    await store.ensure_indexes()
    subjects = ["a", "b", "c"]
    for subject in subjects:
        await store.insert({"_id": subject, "balance": 0})
    log = Log()
    await _publish(servers, topic, ((_event(n, subject=subjects[n % 3]), None) for n in range(30)), log)

    async def balances() -> dict[str, tuple[int, int]]:
        return {d["_id"]: (d["balance"], d["version"]) async for d in mongo_db["counters"].find({})}

    async def all_applied():
        return sum(b for b, _ in (await balances()).values()) == 30

    killed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_CONSUMER, servers.kafka, servers.mongodb_uri, mongo_db.name, topic, group,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "TEST_KAFKA_LOGIN": json.dumps(dataclasses.asdict(servers.kafka_auth))})
    try:
        await _wait_for(all_applied, timeout=60, every=0.2)
    finally:
        killed.send_signal(signal.SIGKILL)
        output = (await killed.communicate())[0].decode(errors="replace")
    assert killed.returncode == -signal.SIGKILL, output
    assert await _committed(servers, group, topic) == {}, "the commit was not delayed"
    applied_before = await balances()
    assert applied_before == {s: (10, 11) for s in subjects}

    delivered: list[str] = []
    credit = _credit(store)

    async def handler(event: CloudEvent) -> None:
        delivered.append(event.id)
        await credit(event)

    await start(handler)  # waits for the killed member's session (6 s) to end: then it owns every partition

    async def lag_is_0():
        return await _committed(servers, group, topic) == log.ends

    await _wait_for(lag_is_0, timeout=60, every=0.2)
    assert len(delivered) == len(set(delivered)) == 30  # every record handled before the kill came again
    assert await balances() == applied_before  # and changed nothing


def _credit(store: AggregateStore):
    async def credit(event: CloudEvent) -> None:
        while True:  # a second delivery finds its event id among the changes' causes: True, nothing written
            doc = await store.get(event.subject)
            if await store.update(event.subject, doc["version"], {"balance": doc["balance"] + 1}, applied=event.id):
                return

    return credit


# A consumer that commits only after an hour (or a million records), in a process of its own
KILLED_CONSUMER = textwrap.dedent("""
    import asyncio, json, os, sys
    from dinamis_common.messaging import consumer
    from dinamis_common.messaging.broker import KafkaAuth, make_broker
    from dinamis_common.messaging.outbox import AggregateStore
    from dinamis_common.mongo import make_mongo_client
    from dinamis_common.telemetry import setup_telemetry

    bootstrap, mongodb_uri, database, topic, group = sys.argv[1:6]
    # a short session: once killed, the group waits 6 s for it instead of 30
    consumer.CONSUMER_OPTIONS.update(session_timeout_ms=6000, heartbeat_interval_ms=1000)

    async def main():
        store = AggregateStore(make_mongo_client(mongodb_uri, "tests")[database]["counters"])

        async def credit(event):
            while True:
                doc = await store.get(event.subject)
                if await store.update(event.subject, doc["version"], {"balance": doc["balance"] + 1},
                                      applied=event.id):
                    return

        auth = KafkaAuth(**json.loads(os.environ["TEST_KAFKA_LOGIN"]))  # the test's Kafka login, not in argv
        broker = make_broker(bootstrap, setup_telemetry("killed-consumer"), auth)
        consumer.subscribe(broker, topic, group, credit, commit_interval=3600, commit_records=10**6)
        await broker.start()
        await asyncio.Event().wait()

    asyncio.run(main())
""")


async def test_a_record_waiting_in_place_is_never_committed_past(consumers, commits, servers):
    start, topic, group = consumers
    log = Log()
    commits.watch(topic, log)
    outage = True
    waits = 0

    async def handler(event: CloudEvent) -> None:
        nonlocal waits
        if event.data["n"] == 2 and outage:
            waits += 1
            raise ConnectionResetError("database connection reset")  # transient: waits in place
        log.finished.add(event.data["n"])

    waiting = [(_event(n, subject="same"), 0) for n in range(6)]
    flowing = [(_event(n, subject="other"), 1) for n in range(10, 16)]
    await _publish(servers, topic, [*waiting, *flowing], log)
    await start(handler, commit_interval=0.05, transient_base_seconds=0.05, transient_max_seconds=0.2)

    async def waited_while_the_rest_flowed():
        return waits >= 5 and {0, 1, *range(10, 16)} <= log.finished

    await _wait_for(waited_while_the_rest_flowed)
    await asyncio.sleep(0.5)  # ten commit intervals, idle but for the waits
    record_2 = next(offset for (p, offset), n in log.at.items() if (p, n) == (0, 2))
    assert await _committed(servers, group, topic) == {0: record_2, 1: log.ends[1]}
    assert 3 not in log.finished

    outage = False

    async def lag_is_0():
        return await _committed(servers, group, topic) == log.ends

    await _wait_for(lag_is_0, every=0.2)
    assert log.finished == {*range(6), *range(10, 16)}


async def test_a_revoked_partition_is_committed_so_its_new_owner_reads_nothing_again(consumers, servers):
    start, topic, group = consumers
    log = Log()
    first: list[int] = []
    second: list[int] = []

    async def first_member(event: CloudEvent) -> None:
        first.append(event.data["n"])

    async def second_member(event: CloudEvent) -> None:
        second.append(event.data["n"])

    await _publish(servers, topic, ((_event(n), None) for n in range(60)), log)
    await start(first_member, commit_interval=3600, commit_records=10**6)

    async def all_handled():
        return len(first) == 60

    await _wait_for(all_handled)
    assert await _committed(servers, group, topic) == {}

    await start(second_member)  # joins: the first member's partitions are revoked, then shared out

    async def lag_is_0():
        return await _committed(servers, group, topic) == log.ends

    await _wait_for(lag_is_0, every=0.2)
    await _publish(servers, topic, ((_event(n), p) for n, p in ((60, 0), (61, 1), (62, 2))), log)

    async def new_ones_handled():
        return sorted(first[60:] + second) == [60, 61, 62]

    await _wait_for(new_ones_handled)
    assert sorted(first[:60]) == list(range(60))  # nothing of the first 60 came again


async def test_stopping_commits_what_was_handled(consumers, servers):
    start, topic, group = consumers
    log = Log()
    handled: list[int] = []

    async def handler(event: CloudEvent) -> None:
        handled.append(event.data["n"])

    await _publish(servers, topic, ((_event(n), None) for n in range(30)), log)
    broker = await start(handler, commit_interval=3600, commit_records=10**6)

    async def all_handled():
        return len(handled) == 30

    await _wait_for(all_handled)
    assert await _committed(servers, group, topic) == {}
    await broker.stop()
    assert await _committed(servers, group, topic) == log.ends
