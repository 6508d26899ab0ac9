"""The change store and its relay against the real FerretDB and Kafka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.broker import ensure_topics, make_broker, publish_record
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import (
    AggregateStore,
    EventNotSerialisable,
    EventTooLarge,
    Outgoing,
    applied_events,
)
from dinamis_common.messaging.relay import OutboxRelay
from dinamis_common.mongo import make_mongo_client
from dinamis_common.telemetry import setup_telemetry

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """The process dying (not an error the relay handles)."""


def _event(subject: str, n: int = 0, **data) -> CloudEvent:
    return CloudEvent(type="fr.dinamis.test.thing.happened.v1", source="/tests", subject=subject,
                      data={"n": n, **data})


async def _relay(servers, store, after_publish=None, **kwargs) -> tuple[OutboxRelay, object]:
    broker = make_broker(servers.kafka, setup_telemetry("relay-test"), servers.kafka_auth)
    await broker.start()

    async def publish(record):
        await publish_record(broker, record)

    return OutboxRelay([store], publish, poll_seconds=0.2, after_publish=after_publish, **kwargs), broker


async def _drain_once(servers, store) -> tuple[int, OutboxRelay]:
    """One pass of a relay over ``store``, whose broker then stops: how many records it published, and
    the relay."""
    relay, broker = await _relay(servers, store)
    try:
        return await relay.drain_once(), relay
    finally:
        await broker.stop()


async def _things(servers, mongo_db, unique, **options) -> tuple[str, AggregateStore]:
    """A topic of the test's own and an indexed change store of "things" (``options`` as the store takes them)."""
    topic = f"it.outbox.{unique}"
    await ensure_topics(servers.kafka, [topic], auth=servers.kafka_auth)
    store = AggregateStore(mongo_db["things"], **options)
    await store.ensure_indexes()
    return topic, store


def _ids(records) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


async def test_a_write_whose_process_died_before_publishing_is_published_exactly_once(
        servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique)
    event = _event("thing-1")
    # the state change and its event are one change; no relay ran (the process died right after)
    assert await store.insert({"_id": "thing-1", "name": "first"}, [Outgoing(topic, event)])

    relay, broker = await _relay(servers, store)
    try:
        assert await relay.drain_once() == 1
        assert await relay.drain_once() == 0  # nothing left to send
    finally:
        await broker.stop()

    reader = await topic_reader(topic)
    await reader.read(until=1)
    records = await reader.settle()
    assert _ids(records) == [event.id]
    assert records[0].key == b"thing-1"
    assert await store.pending("outbox") == []


async def test_a_relay_killed_between_publish_and_marking_republishes_and_the_effect_stays_single(
        servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique)
    event = _event("thing-2")
    await store.insert({"_id": "thing-2"}, [Outgoing(topic, event)])

    async def die(_record):
        raise Crash

    relay, broker = await _relay(servers, store, after_publish=die)
    with pytest.raises(Crash):
        await relay.drain_once()
    await broker.stop()
    assert len(await store.pending("outbox")) == 1  # still there: the relay died

    published, _ = await _drain_once(servers, store)  # a restarted relay
    assert published == 1

    records = await (await topic_reader(topic)).read(until=2)
    assert _ids(records) == [event.id, event.id]

    # a consumer applying both deliveries, the event id as the change's cause, counts one
    counters = AggregateStore(mongo_db["counters"])
    await counters.ensure_indexes()
    await counters.insert({"_id": "c", "seen": 0})
    for ce_id in _ids(records):
        doc = await counters.get("c")
        assert await counters.update("c", doc["version"], {"seen": doc["seen"] + 1}, applied=ce_id)
    assert (await counters.get("c"))["seen"] == 1


async def test_events_of_one_aggregate_leave_in_the_order_they_were_written(servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique)
    first, second, third = (_event("thing-3", n) for n in range(3))
    await store.insert({"_id": "thing-3"}, [Outgoing(topic, first)])
    await store.update("thing-3", 1, {"step": 2}, [Outgoing(topic, second), Outgoing(topic, third)])

    await _drain_once(servers, store)
    records = await (await topic_reader(topic)).read(until=3)
    assert _ids(records) == [first.id, second.id, third.id]


async def test_a_stale_version_changes_nothing(mongo_db):
    store = AggregateStore(mongo_db["things"])
    await store.ensure_indexes()
    await store.insert({"_id": "t", "colour": "red"})
    assert await store.update("t", 1, {"colour": "blue"})
    assert not await store.update("t", 1, {"colour": "green"})  # someone else moved it to version 2
    doc = await store.get("t")
    assert (doc["colour"], doc["version"]) == ("blue", 2)


async def test_a_second_insert_of_the_same_aggregate_is_refused_without_error(mongo_db):
    store = AggregateStore(mongo_db["things"])
    await store.ensure_indexes()
    assert await store.insert({"_id": "same", "n": 1})
    assert not await store.insert({"_id": "same", "n": 2})
    assert (await store.get("same"))["n"] == 1


async def test_writers_on_separate_connections_never_lose_a_change_nor_apply_an_event_twice(servers, mongo_db):
    """Four "replicas" (own clients, own connections, no shared lock) apply 40 distinct events and
    each event twice: FerretDB's guarded update alone loses changes here; the version claim does not."""
    clients = [make_mongo_client(servers.mongodb_uri, f"replica-{i}") for i in range(4)]
    stores = [AggregateStore(c[mongo_db.name]["things"], cache_size=0) for c in clients]
    await stores[0].ensure_indexes()
    await stores[0].insert({"_id": "shared", "seen": [], "count": 0})
    tags = [f"e{i:02d}" for i in range(40)]

    async def apply(store: AggregateStore, tag: str) -> None:
        while True:
            doc = await store.get("shared")
            if await store.update("shared", doc["version"], {"seen": [*doc["seen"], tag]}, applied=tag,
                                  inc={"count": 1}):
                return

    try:
        jobs = [apply(stores[(i + k) % 4], tag) for i, tag in enumerate(tags) for k in (0, 1)]
        await asyncio.gather(*jobs)
    finally:
        for c in clients:
            await c.close()
    doc = await AggregateStore(mongo_db["things"]).get("shared")
    assert sorted(doc["seen"]) == tags  # every event once, none lost
    assert doc["count"] == 40 and doc["version"] == 41
    seen = applied_events(doc)  # the last changes' events, for handlers to skip a redelivery early
    assert len(seen) == 32 and seen <= set(tags)


async def test_a_writer_killed_between_claim_and_state_is_rolled_forward_and_its_events_published(
        servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique, grace_seconds=0.0)
    await store.insert({"_id": "t", "colour": "red"})
    event = _event("t", 1)
    # what a writer leaves when it dies right after claiming version 2
    change = store._change({"_id": "t", "colour": "blue", "version": 2, "changes": ["x"]},
                           [Outgoing(topic, event)], None, "x")
    await store.changes.insert_one(change)
    assert (await store.get("t"))["colour"] == "red"

    published, _ = await _drain_once(servers, store)
    assert published == 1
    doc = await store.get("t")
    assert (doc["colour"], doc["version"]) == ("blue", 2)
    assert _ids(await (await topic_reader(topic)).read(until=1)) == [event.id]


async def test_a_claim_the_aggregate_went_on_without_is_dropped_and_never_published(
        servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique, grace_seconds=0.0)
    await store.insert({"_id": "t", "colour": "red"})
    await store.update("t", 1, {"colour": "blue"})
    await store.update("t", 2, {"colour": "green"})
    # an old claim for version 3 made from stale state, whose writer never applied it
    await store.changes.delete_one({"_id": "t:3"})
    stale = store._change({"_id": "t", "colour": "pink", "version": 3, "changes": ["stale"]},
                          [Outgoing(topic, _event("t", 9))], None, "stale")
    await store.changes.insert_one(stale)

    await _drain_once(servers, store)
    assert (await store.get("t"))["colour"] == "green"
    assert await store.changes.find_one({"cause": "stale"}) is None  # its cause is free again
    assert await (await topic_reader(topic)).settle() == []


async def test_an_event_too_large_or_not_json_is_refused_and_nothing_is_stored(mongo_db, unique):
    store = AggregateStore(mongo_db["things"], max_record_bytes=10_000)
    await store.ensure_indexes()
    with pytest.raises(EventTooLarge, match="more than the 10,000"):
        await store.insert({"_id": "big"}, [Outgoing(f"t.{unique}", _event("big", text="é" * 6000))])
    with pytest.raises(EventNotSerialisable):
        await store.insert({"_id": "nan"}, [Outgoing(f"t.{unique}", _event("nan", area=float("nan")))])
    assert await store.get("big") is None and await store.get("nan") is None
    assert await store.changes.count_documents({}) == 0
    # the same text fits once UTF-8 is not escaped: 6,000 "é" are 12 kB, not 36 kB
    roomy = AggregateStore(mongo_db["other"], max_record_bytes=13_000)
    assert await roomy.insert({"_id": "fits"}, [Outgoing(f"t.{unique}", _event("fits", text="é" * 6000))])


async def test_a_record_the_broker_can_never_take_is_quarantined_and_the_others_keep_flowing(
        servers, mongo_db, topic_reader, unique):
    topic, store = await _things(servers, mongo_db, unique, max_record_bytes=3_000_000)  # the broker's limit is 1 MiB
    huge = _event("a", text="x" * 1_500_000)
    after = [_event("a", 2), _event("b", 3)]
    await store.insert({"_id": "a"}, [Outgoing(topic, huge)])
    await store.update("a", 1, {"step": 2}, [Outgoing(topic, after[0])])
    await store.insert({"_id": "b"}, [Outgoing(topic, after[1])])

    published, relay = await _drain_once(servers, store)
    assert published == 2
    assert relay.quarantined == 1
    assert await store.pending("outbox") == []
    kept = await store.changes.find_one({"_id": "a:1"})
    assert "MessageSizeTooLarge" in kept["outbox_quarantine"][huge.id]["reason"]
    assert sorted(_ids(await (await topic_reader(topic)).read(until=2))) == sorted(e.id for e in after)


async def test_sweep_forgets_finished_changes_past_retention_and_keeps_pending_ones(servers, mongo_db, unique):
    store = AggregateStore(mongo_db["things"], retention=timedelta(hours=1))
    await store.ensure_indexes()
    await store.insert({"_id": "done"})
    await store.insert({"_id": "waiting"}, [Outgoing(f"t.{unique}", _event("waiting"))])
    assert await store.sweep() == 0  # nothing old yet
    assert await store.sweep(now=datetime.now(UTC) + timedelta(hours=2)) == 1
    assert await store.changes.find_one({"aggregate": "done"}) is None
    assert len(await store.pending("outbox")) == 1
