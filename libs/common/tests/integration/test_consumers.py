"""At-least-once consumers on the real Kafka and FerretDB: duplicates, poison records, retries
through each group's own retry topic, dead letters with their reason, outages waited out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.broker import ensure_topics
from dinamis_common.messaging.consumer import (
    H_ATTEMPTS,
    H_FAILED_AT,
    H_FAILURE,
    H_GROUP,
    H_NOT_BEFORE,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_TOPIC,
    PermanentError,
    dlq_topic,
    retry_topic,
)
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore
from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure

pytestmark = pytest.mark.integration


async def _wait_for(predicate, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def running(servers, unique, subscriber):
    """``start(handler, group=..., **options)`` subscribes a broker of its own to the test's topic;
    yields (start, topic, group)."""
    topic, default_group = f"it.consume.{unique}", f"tests.{unique}"
    await ensure_topics(servers.kafka, [topic], auth=servers.kafka_auth)

    async def start(handler, group: str = default_group, **options):
        return await subscriber(topic, group, handler, **options)

    return start, topic, default_group


def _event(subject: str = "k", **data) -> CloudEvent:
    return CloudEvent(type="fr.dinamis.test.thing.happened.v1", source="/tests", subject=subject, data=data)


async def _publish(broker, topic: str, event: CloudEvent):
    return await broker.publish(event.body(), topic=topic, key=event.subject.encode(), headers=event.headers())


async def _recording(start, what=lambda event: event.id, **options) -> tuple[list, object]:
    """Starts a group (``options`` as ``start`` takes them) whose handler records ``what(event)`` of
    each event it handles; returns that record and the group's broker."""
    handled: list = []

    async def handler(event: CloudEvent) -> None:
        handled.append(what(event))

    return handled, await start(handler, **options)


def _headers(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def test_the_same_event_delivered_twice_has_one_effect(running, mongo_db):
    start, topic, _ = running
    accounts = AggregateStore(mongo_db["accounts"])
    await accounts.ensure_indexes()
    await accounts.insert({"_id": "acc", "balance": 0})

    async def credit(event: CloudEvent) -> None:
        while True:  # a second delivery finds its event id among the changes' causes: True, nothing written
            doc = await accounts.get("acc")
            if await accounts.update("acc", doc["version"], {"balance": doc["balance"] + event.data["amount"]},
                                     applied=event.id):
                return

    broker = await start(credit)
    event = CloudEvent(type="fr.dinamis.test.credit.made.v1", source="/tests", subject="acc", data={"amount": 5})
    await _publish(broker, topic, event)
    await _publish(broker, topic, event)  # redelivered (e.g. a relay that crashed before removal)
    later = CloudEvent(type="fr.dinamis.test.credit.made.v1", source="/tests", subject="acc", data={"amount": 1})
    await _publish(broker, topic, later)

    async def both_applied():
        return (await accounts.get("acc"))["version"] == 3

    await _wait_for(both_applied)
    await asyncio.sleep(0.5)
    assert (await accounts.get("acc"))["balance"] == 6


async def test_a_record_that_is_not_a_cloudevent_is_dead_lettered_and_the_next_one_is_handled(running, topic_reader):
    start, topic, group = running
    handled, broker = await _recording(start)
    await broker.publish(b"{not json", topic=topic, key=b"k", headers={"content-type": "application/json"})
    good = _event()
    await _publish(broker, topic, good)

    dead = await (await topic_reader(dlq_topic(group))).read(until=1)
    assert dead[0].value == b"{not json"
    assert "missing header" in _headers(dead[0])[H_REASON]

    async def good_handled():
        return handled == [good.id]

    await _wait_for(good_handled)


async def test_a_permanent_failure_is_dead_lettered_at_once_with_its_reason_and_origin(running, topic_reader):
    start, topic, group = running
    calls = 0

    async def handler(event: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("request unknown here")

    broker = await start(handler, max_attempts=5)
    event = _event(subject="req-1", n=1)
    sent = await _publish(broker, topic, event)
    dead = await (await topic_reader(dlq_topic(group))).read(until=1)
    headers = _headers(dead[0])
    assert dead[0].value == event.body() and dead[0].key == b"req-1"
    assert headers[H_REASON] == "PermanentError: request unknown here"
    assert headers[H_FAILURE] == "permanent"
    assert headers[H_ATTEMPTS] == "1"
    assert (headers[H_TOPIC], headers[H_PARTITION], headers[H_OFFSET]) == (topic, str(sent.partition),
                                                                           str(sent.offset))
    assert headers[H_GROUP] == group
    failed_at = datetime.fromisoformat(headers[H_FAILED_AT].replace("Z", "+00:00"))
    assert timedelta(0) <= datetime.now(UTC) - failed_at < timedelta(minutes=1)
    assert {k: v for k, v in headers.items() if k.startswith("ce_")} == {
        k: v for k, v in event.headers().items() if k.startswith("ce_")}
    assert calls == 1
    assert await (await topic_reader(retry_topic(group))).settle(1.0) == []


async def test_an_unknown_failure_goes_through_the_retry_topic_then_to_the_dead_letter_topic(running, topic_reader):
    start, topic, group = running
    attempts: list[str] = []

    async def always_fails(event: CloudEvent) -> None:
        attempts.append(event.id)
        raise RuntimeError("boom")

    broker = await start(always_fails, max_attempts=3, retry_base_seconds=0.2)
    event = _event()
    sent = await _publish(broker, topic, event)
    dead = await (await topic_reader(dlq_topic(group))).read(until=1, timeout=30)
    headers = _headers(dead[0])
    assert headers["ce_id"] == event.id
    assert headers[H_ATTEMPTS] == "3"
    assert headers[H_REASON] == "RuntimeError: boom"
    assert headers[H_FAILURE] == "unknown"
    assert (headers[H_TOPIC], headers[H_OFFSET]) == (topic, str(sent.offset))  # the live record, not a retry's
    assert attempts == [event.id] * 3
    retried = await (await topic_reader(retry_topic(group))).read(until=2)
    assert [_headers(r)[H_ATTEMPTS] for r in retried] == ["1", "2"]
    delays = [float(_headers(r)[H_NOT_BEFORE]) - r.timestamp / 1000 for r in retried]
    assert 0.1 < delays[0] < 0.3 < delays[1] < 0.5  # growing: 0.2 s then 0.4 s (± the publishing time)


async def test_a_handler_that_fails_once_succeeds_on_retry(running, topic_reader):
    start, topic, group = running
    done: list[str] = []
    failed_once = False

    async def flaky(event: CloudEvent) -> None:
        nonlocal failed_once
        if not failed_once:
            failed_once = True
            raise RuntimeError("flaky")
        done.append(event.id)

    broker = await start(flaky, max_attempts=3, retry_base_seconds=0.1)
    event = _event()
    await _publish(broker, topic, event)

    async def succeeded():
        return done == [event.id]

    await _wait_for(succeeded)
    assert await (await topic_reader(dlq_topic(group))).settle(1.0) == []


async def test_a_record_waiting_in_the_retry_topic_never_holds_the_live_topic(running):
    """Its not-before (8 s here) pauses only its retry partition: the aggregate's later records,
    on the same live partition, are applied at once."""
    start, topic, _ = running
    applied: dict[int, float] = {}
    failed_at: float | None = None

    async def handler(event: CloudEvent) -> None:
        nonlocal failed_at
        if event.data["n"] == 0 and failed_at is None:
            failed_at = time.monotonic()
            raise RuntimeError("first delivery fails")
        applied[event.data["n"]] = time.monotonic()

    broker = await start(handler, retry_base_seconds=8.0)
    await _publish(broker, topic, _event(subject="same", n=0))

    async def first_failed():
        return failed_at is not None

    await _wait_for(first_failed)
    for n in (1, 2, 3):
        await _publish(broker, topic, _event(subject="same", n=n))

    async def live_applied():
        return {1, 2, 3} <= applied.keys()

    await _wait_for(live_applied, timeout=5)
    assert 0 not in applied
    assert max(applied.values()) - failed_at < 4.0

    async def retried():
        return 0 in applied

    await _wait_for(retried, timeout=20)
    assert applied[0] - failed_at >= 7.5


async def test_a_retry_partition_waiting_never_holds_another_retry_partition(running, servers):
    start, topic, group = running
    applied: dict[str, float] = {}

    async def handler(event: CloudEvent) -> None:
        applied[event.subject] = time.time()

    broker = await start(handler)
    now = time.time()
    for partition, subject, not_before in ((0, "later", now + 8), (1, "due", now)):
        event = _event(subject=subject)
        headers = {**event.headers(), H_GROUP: group, H_ATTEMPTS: "1", H_TOPIC: topic, H_PARTITION: "0",
                   H_OFFSET: "0", H_NOT_BEFORE: str(not_before)}
        await broker.publish(event.body(), topic=retry_topic(group), partition=partition, key=subject.encode(),
                             headers=headers)

    async def due_applied():
        return "due" in applied

    await _wait_for(due_applied, timeout=10)
    assert "later" not in applied and applied["due"] - now < 6

    async def later_applied():
        return "later" in applied

    await _wait_for(later_applied, timeout=20)
    assert applied["later"] >= now + 8


async def test_two_groups_on_one_topic_keep_their_failures_apart(running, topic_reader, unique):
    start, topic, _ = running
    failing, healthy = f"tests.failing.{unique}", f"tests.healthy.{unique}"

    async def fails(event: CloudEvent) -> None:
        raise RuntimeError("this group cannot")

    broker = await start(fails, group=failing, max_attempts=2, retry_base_seconds=0.1)
    applied, _ = await _recording(start, group=healthy)
    event = _event()
    await _publish(broker, topic, event)

    dead = await (await topic_reader(dlq_topic(failing))).read(until=1, timeout=30)
    assert _headers(dead[0])["ce_id"] == event.id and _headers(dead[0])[H_GROUP] == failing
    assert len(await (await topic_reader(retry_topic(failing))).settle(1.0)) == 1
    assert await (await topic_reader(retry_topic(healthy), dlq_topic(healthy))).settle(1.0) == []
    assert applied == [event.id]


async def test_a_dependency_outage_is_waited_out_in_order_and_nothing_is_set_aside(running, topic_reader, caplog):
    """A handler whose database is away (a real PyMongo ConnectionFailure, from a server that does
    not answer) keeps its records: each one is tried again in place until it applies, in order."""
    start, topic, group = running
    away = AsyncMongoClient("mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=100, connectTimeoutMS=100)
    outage_left = 3
    applied: list[int] = []
    raised: list[str] = []

    async def handler(event: CloudEvent) -> None:
        nonlocal outage_left
        if outage_left:
            outage_left -= 1
            try:
                await away.dbs.cases.find_one({"_id": event.subject})
            except ConnectionFailure as exc:
                raised.append(type(exc).__name__)
                raise
        applied.append(event.data["n"])

    caplog.set_level("WARNING", logger="dinamis_common.messaging.consumer")
    broker = await start(handler, transient_base_seconds=0.1)
    for n in range(4):
        await _publish(broker, topic, _event(subject="same", n=n))

    async def all_applied():
        return len(applied) >= 4

    await _wait_for(all_applied)
    await away.close()
    assert applied == [0, 1, 2, 3]
    waits = [r for r in caplog.records if "a dependency is unavailable" in r.getMessage()]
    assert len(waits) == 3 and all("ServerSelectionTimeoutError" in r.getMessage() for r in waits)
    assert raised == ["ServerSelectionTimeoutError"] * 3
    assert await (await topic_reader(dlq_topic(group), retry_topic(group))).settle(1.0) == []


async def test_retries_dead_letters_and_outage_waits_are_counted_per_group_and_topic(running):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    start, topic, group = running
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("dinamis.consumer")
    outage_left = 2
    done: list[str] = []

    async def handler(event: CloudEvent) -> None:
        nonlocal outage_left
        if event.data["kind"] == "outage" and outage_left:
            outage_left -= 1
            raise ConnectionResetError("database connection reset")
        if event.data["kind"] == "bug":
            raise RuntimeError("boom")
        done.append(event.data["kind"])

    broker = await start(handler, meter=meter, max_attempts=2, retry_base_seconds=0.1, transient_base_seconds=0.05)
    for kind in ("outage", "bug"):
        await _publish(broker, topic, _event(subject=kind, kind=kind))

    def counts() -> dict[str, tuple[int, dict]]:
        data = reader.get_metrics_data()
        found = {}
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    for point in m.data.data_points:
                        found[m.name] = (point.value, dict(point.attributes))
        return found

    async def counted():
        return done == ["outage"] and counts().get("dinamis.consumer.dead_lettered", (0,))[0] == 1

    await _wait_for(counted, timeout=30)
    labels = {"group": group, "topic": topic}
    assert counts() == {"dinamis.consumer.transient_waits": (2, labels), "dinamis.consumer.retried": (1, labels),
                        "dinamis.consumer.dead_lettered": (1, labels)}


async def test_a_record_with_unreadable_headers_never_blocks_its_partition(running, servers):
    from aiokafka import AIOKafkaProducer

    start, topic, _ = running
    handled, broker = await _recording(start, lambda event: event.subject)
    poison = _event(subject="same")
    headers = [(k, v.encode()) for k, v in poison.headers().items() if k != "ce_type"]
    # raw headers, which faststream would not send
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka, **servers.kafka_auth.client_options())
    await producer.start()
    try:
        await producer.send_and_wait(topic, poison.body(), key=b"same",
                                     headers=[*headers, ("ce_type", b"\xff\xfe"), ("x-empty", None)])
    finally:
        await producer.stop()
    await _publish(broker, topic, _event(subject="same"))

    async def next_handled():
        return handled == ["same", "same"]

    await _wait_for(next_handled)
