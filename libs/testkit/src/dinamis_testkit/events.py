"""CloudEvents published to a topic as a service's relay publishes them, and a topic's records read
back from the beginning, on a real Kafka (no test framework imported)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from dinamis_common.messaging.broker import NO_AUTH, KafkaAuth
from dinamis_common.messaging.envelope import CloudEvent


class Publisher:
    """Publishes to one topic as a relay does (binary mode: the envelope in the headers; key = the
    event's subject; ``acks=all``) and, given the consumer group that reads the topic, waits until
    that group has consumed every record it sent."""

    def __init__(self, kafka: str, topic: str, group: str | None = None, auth: KafkaAuth = NO_AUTH) -> None:
        self.topic, self.group = topic, group
        self.producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", **auth.client_options())
        self.admin = AIOKafkaAdminClient(bootstrap_servers=kafka, **auth.client_options()) if group else None
        self.sent: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self.producer.start()
        if self.admin:
            await self.admin.start()

    async def stop(self) -> None:
        await self.producer.stop()
        if self.admin:
            await self.admin.close()

    async def publish(self, *events: CloudEvent) -> None:
        """Sends ``events`` in order, each once (name one twice to deliver it twice)."""
        for e in events:
            meta = await self.producer.send_and_wait(self.topic, e.body(), key=e.subject.encode(),
                                                     headers=[(k, v.encode()) for k, v in e.headers().items()])
            self.sent[TopicPartition(meta.topic, meta.partition)] = meta.offset + 1

    async def consumed(self, timeout: float = 20.0) -> None:
        """Returns once the consumer group has committed past every record sent."""
        if self.admin is None:
            raise RuntimeError("this publisher was given no consumer group to wait for")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            committed = await self.admin.list_consumer_group_offsets(self.group)
            if all(tp in committed and committed[tp].offset >= end for tp, end in self.sent.items()):
                return
            assert loop.time() < deadline, f"the group {self.group} did not consume {self.topic} in time"
            await asyncio.sleep(0.1)


def reader(kafka: str, *topics: str, auth: KafkaAuth = NO_AUTH) -> AIOKafkaConsumer:
    """A consumer of no group that reads ``topics`` from their first record (start it, then stop it)."""
    return AIOKafkaConsumer(*topics, bootstrap_servers=kafka, group_id=None, auto_offset_reset="earliest",
                            **auth.client_options())
