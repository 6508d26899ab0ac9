from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer
from dinamis_common.messaging import consumer
from dinamis_common.messaging.broker import NO_AUTH, KafkaAuth, ensure_topics, make_broker
from dinamis_common.mongo import make_mongo_client
from dinamis_common.telemetry import setup_telemetry
from dinamis_contracts.topics import dlq_topic, retry_topic


@pytest.fixture
async def mongo_db(servers, unique) -> AsyncIterator:
    client = make_mongo_client(servers.mongodb_uri, "tests")
    db = client[f"it_{unique}"]
    yield db
    await client.drop_database(db.name)
    await client.close()


class TopicReader:
    """Reads every record of some topics from the beginning, as a partner system would."""

    def __init__(self, bootstrap: str, *topics: str, auth: KafkaAuth = NO_AUTH) -> None:
        self.consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                         group_id=None, enable_auto_commit=False, **auth.client_options())
        self.records: list = []

    async def read(self, until: int, timeout: float = 15.0) -> list:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.records) < until and loop.time() < deadline:
            batch = await self.consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)
        return self.records

    async def settle(self, seconds: float = 1.5) -> list:
        """Whatever arrives within ``seconds`` more (to prove nothing else comes)."""
        return await self.read(until=10**9, timeout=seconds)


@pytest.fixture
async def topic_reader(servers):
    readers: list[TopicReader] = []

    async def make(*topics: str) -> TopicReader:
        await ensure_topics(servers.kafka, topics, auth=servers.kafka_auth)
        reader = TopicReader(servers.kafka, *topics, auth=servers.kafka_auth)
        await reader.consumer.start()
        readers.append(reader)
        return reader

    yield make
    for r in readers:
        await r.consumer.stop()


@pytest.fixture
async def consumer_topics(servers):
    """Creates what a consumer group needs on a cluster that creates no topic by itself (as the
    stack's): the topic it reads and the group's retry and dead-letter topics."""

    async def make(topic: str, group: str) -> None:
        await ensure_topics(servers.kafka, [topic, retry_topic(group), dlq_topic(group)], auth=servers.kafka_auth)

    return make


@pytest.fixture
async def subscriber(servers):
    """``start(topic, group, handler, **options)``: a broker of its own subscribed to ``topic`` in
    ``group`` (the group's retry and dead-letter topics created first, as auto-creation is off)."""
    brokers = []

    async def start(topic: str, group: str, handler, service: str = "consumer-test", **options):
        await ensure_topics(servers.kafka, consumer.consumer_topics(topic, group), auth=servers.kafka_auth)
        broker = make_broker(servers.kafka, setup_telemetry(service), servers.kafka_auth)
        consumer.subscribe(broker, topic, group, handler, **options)
        await broker.start()
        brokers.append(broker)
        return broker

    yield start
    for b in brokers:
        await b.stop()
