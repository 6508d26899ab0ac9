"""The outbox and its relay against the real FerretDB and Kafka."""

from __future__ import annotations

import pytest
from dinamis_common.messaging.broker import ensure_topics, make_broker, publish_record
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore, Outgoing
from dinamis_common.messaging.relay import OutboxRelay
from dinamis_common.telemetry import setup_telemetry

pytestmark = pytest.mark.integration


class Crash(Exception):
    pass


def _event(subject: str, n: int = 0) -> CloudEvent:
    return CloudEvent(type="fr.dinamis.test.thing.happened.v1", source="/tests", subject=subject, data={"n": n})


async def _relay(servers, collection, after_publish=None) -> tuple[OutboxRelay, object]:
    broker = make_broker(servers.kafka, setup_telemetry("relay-test"))
    await broker.start()

    async def publish(record):
        await publish_record(broker, record)

    return OutboxRelay([collection], publish, poll_seconds=0.2, after_publish=after_publish), broker


async def test_a_write_whose_process_died_before_publishing_is_published_exactly_once(
        servers, mongo_db, topic_reader, unique):
    topic = f"it.outbox.{unique}"
    await ensure_topics(servers.kafka, [topic])
    store = AggregateStore(mongo_db["things"])
    event = _event("thing-1")
    # the state change and its event are one write; no relay ran (the process died right after)
    assert await store.insert({"_id": "thing-1", "name": "first"}, [Outgoing(topic, event)])

    relay, broker = await _relay(servers, mongo_db["things"])
    try:
        assert await relay.drain_once() == 1
        assert await relay.drain_once() == 0  # nothing left to send
    finally:
        await broker.stop()

    reader = await topic_reader(topic)
    records = await reader.read(until=1)
    records = await reader.settle()
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [event.id]
    assert records[0].key == b"thing-1"
    doc = await store.get("thing-1")
    assert doc["outbox"] == {} and doc["outbox_pending"] == 0


async def test_a_relay_killed_between_publish_and_removal_republishes_and_the_effect_stays_single(
        servers, mongo_db, topic_reader, unique):
    topic = f"it.outbox.{unique}"
    await ensure_topics(servers.kafka, [topic])
    store = AggregateStore(mongo_db["things"])
    event = _event("thing-2")
    await store.insert({"_id": "thing-2"}, [Outgoing(topic, event)])

    async def die(_record):
        raise Crash

    relay, broker = await _relay(servers, mongo_db["things"], after_publish=die)
    with pytest.raises(Crash):
        await relay.drain_once()
    await broker.stop()
    assert (await store.get("thing-2"))["outbox_pending"] == 1  # still there: the relay died

    restarted, broker = await _relay(servers, mongo_db["things"])
    try:
        assert await restarted.drain_once() == 1
    finally:
        await broker.stop()

    reader = await topic_reader(topic)
    records = await reader.read(until=2)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [event.id, event.id]

    # a consumer applying both deliveries with the applied-event guard counts one
    counters = AggregateStore(mongo_db["counters"])
    await counters.insert({"_id": "c", "seen": 0})
    for record in records:
        ce_id = dict(record.headers)["ce_id"].decode()
        doc = await counters.get("c")
        await counters.update("c", doc["version"], {"seen": doc["seen"] + 1}, applied=ce_id)
    assert (await counters.get("c"))["seen"] == 1


async def test_events_of_one_aggregate_leave_in_the_order_they_were_written(servers, mongo_db, topic_reader, unique):
    topic = f"it.outbox.{unique}"
    await ensure_topics(servers.kafka, [topic])
    store = AggregateStore(mongo_db["things"])
    first, second, third = (_event("thing-3", n) for n in range(3))
    await store.insert({"_id": "thing-3"}, [Outgoing(topic, first)])
    await store.update("thing-3", 1, {"step": 2}, [Outgoing(topic, second), Outgoing(topic, third)])

    relay, broker = await _relay(servers, mongo_db["things"])
    try:
        await relay.drain_once()
    finally:
        await broker.stop()
    records = await (await topic_reader(topic)).read(until=3)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [first.id, second.id, third.id]


async def test_a_stale_version_changes_nothing(mongo_db):
    store = AggregateStore(mongo_db["things"])
    await store.insert({"_id": "t", "colour": "red"})
    assert await store.update("t", 1, {"colour": "blue"})
    assert not await store.update("t", 1, {"colour": "green"})  # someone else moved it to version 2
    doc = await store.get("t")
    assert (doc["colour"], doc["version"]) == ("blue", 2)


async def test_a_second_insert_of_the_same_aggregate_is_refused_without_error(mongo_db):
    store = AggregateStore(mongo_db["things"])
    assert await store.insert({"_id": "same", "n": 1})
    assert not await store.insert({"_id": "same", "n": 2})
    assert (await store.get("same"))["n"] == 1


async def test_concurrent_writers_of_one_aggregate_never_overwrite_each_other(mongo_db):
    """FerretDB's conditional update is not atomic: without the store's per-aggregate write
    lock, writers guarded by the same version all "win" and overwrite each other."""
    import asyncio

    store = AggregateStore(mongo_db["things"])
    await store.insert({"_id": "shared", "seen": []})

    async def add(tag: str) -> None:
        while True:
            doc = await store.get("shared")
            if await store.update("shared", doc["version"], {"seen": [*doc["seen"], tag]}, applied=tag):
                return

    tags = [f"w{i}" for i in range(8)]
    await asyncio.gather(*(add(t) for t in tags))
    doc = await store.get("shared")
    assert sorted(doc["seen"]) == tags
    assert sorted(doc["applied_events"]) == tags
    assert doc["version"] == 1 + len(tags)
