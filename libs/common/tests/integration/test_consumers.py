"""At-least-once consumers on the real Kafka and FerretDB: duplicates, poison records, retries."""

from __future__ import annotations

import asyncio

import pytest
from dinamis_common.messaging.broker import ensure_topics, make_broker
from dinamis_common.messaging.consumer import PermanentError, dlq_topic, retry_topic, subscribe
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.telemetry import setup_telemetry

pytestmark = pytest.mark.integration


async def _wait_for(predicate, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def running(servers, unique):
    """Start a broker with one subscription; yields (broker, topic, group)."""
    brokers = []
    topic, group = f"it.consume.{unique}", f"tests.{unique}"
    await ensure_topics(servers.kafka, [topic, retry_topic(topic), dlq_topic(topic)])

    async def start(handler, **options):
        broker = make_broker(servers.kafka, setup_telemetry("consumer-test"))
        subscribe(broker, topic, group, handler, **options)
        await broker.start()
        brokers.append(broker)
        return broker

    yield start, topic
    for b in brokers:
        await b.stop()


async def _publish(broker, topic: str, event: CloudEvent) -> None:
    await broker.publish(event.body(), topic=topic, key=event.subject.encode(), headers=event.headers())


async def test_the_same_event_delivered_twice_has_one_effect(running, mongo_db):
    start, topic = running
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


async def test_a_record_that_is_not_a_cloudevent_goes_to_the_dead_letter_topic_and_the_next_one_is_handled(
        running, topic_reader):
    start, topic = running
    handled: list[str] = []

    async def handler(event: CloudEvent) -> None:
        handled.append(event.id)

    broker = await start(handler)
    await broker.publish(b"{not json", topic=topic, key=b"k", headers={"content-type": "application/json"})
    good = CloudEvent(type="fr.dinamis.test.thing.happened.v1", source="/tests", subject="k", data={})
    await _publish(broker, topic, good)

    dead = await (await topic_reader(dlq_topic(topic))).read(until=1)
    assert dead[0].value == b"{not json"
    assert "missing header" in dict(dead[0].headers)["x-dinamis-error"].decode()

    async def good_handled():
        return handled == [good.id]

    await _wait_for(good_handled)


async def test_a_permanent_error_is_dead_lettered_at_once(running, topic_reader):
    start, topic = running
    calls = 0

    async def handler(event: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("request unknown here")

    broker = await start(handler)
    await _publish(broker, topic, CloudEvent(type="t", source="/tests", subject="k", data={}))
    dead = await (await topic_reader(dlq_topic(topic))).read(until=1)
    headers = dict(dead[0].headers)
    assert headers["x-dinamis-error"].decode() == "PermanentError: request unknown here"
    assert calls == 1


async def test_a_failing_handler_is_retried_through_the_retry_topic_then_dead_lettered(running, topic_reader):
    start, topic = running
    attempts: list[str] = []

    async def always_fails(event: CloudEvent) -> None:
        attempts.append(event.id)
        raise RuntimeError("boom")

    broker = await start(always_fails, max_attempts=3, retry_base_seconds=0.1)
    event = CloudEvent(type="t", source="/tests", subject="k", data={})
    await _publish(broker, topic, event)
    dead = await (await topic_reader(dlq_topic(topic))).read(until=1, timeout=30)
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert headers["ce_id"] == event.id
    assert headers["x-dinamis-attempt"] == "3"
    assert headers["x-dinamis-error"] == "RuntimeError: boom"
    assert attempts == [event.id] * 3


async def test_a_handler_that_fails_once_succeeds_on_retry(running, topic_reader):
    start, topic = running
    done: list[str] = []
    failed_once = False

    async def flaky(event: CloudEvent) -> None:
        nonlocal failed_once
        if not failed_once:
            failed_once = True
            raise RuntimeError("transient")
        done.append(event.id)

    broker = await start(flaky, max_attempts=3, retry_base_seconds=0.1)
    event = CloudEvent(type="t", source="/tests", subject="k", data={})
    await _publish(broker, topic, event)

    async def succeeded():
        return done == [event.id]

    await _wait_for(succeeded)
    assert await (await topic_reader(dlq_topic(topic))).settle(1.0) == []


async def test_a_database_outage_holds_the_record_until_it_can_be_applied(running, topic_reader):
    """Infrastructure errors are not the record's fault: it is neither acknowledged nor
    dead-lettered, it comes back (in order) once the database answers again."""
    from pymongo.errors import AutoReconnect

    start, topic = running
    outage_left = 2
    applied: list[int] = []

    async def handler(event: CloudEvent) -> None:
        nonlocal outage_left
        if outage_left:
            outage_left -= 1
            raise AutoReconnect("database unreachable")
        applied.append(event.data["n"])

    broker = await start(handler, infra_pause_seconds=0.1)
    for n in range(3):
        await _publish(broker, topic, CloudEvent(type="t", source="/tests", subject="same", data={"n": n}))

    async def all_applied():
        return len(applied) >= 3

    await _wait_for(all_applied)
    assert applied == [0, 1, 2]
    assert await (await topic_reader(dlq_topic(topic), retry_topic(topic))).settle(1.0) == []
