"""The faststream ``KafkaBroker`` every service uses, and topic administration."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

from dinamis_common.telemetry import Telemetry

log = logging.getLogger(__name__)


def make_broker(bootstrap_servers: str, telemetry: Telemetry) -> KafkaBroker:
    """Idempotent producer, ``acks=all``: a record acknowledged is a record kept."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=telemetry.service,
        acks="all",
        enable_idempotence=True,
        graceful_timeout=15.0,
        middlewares=[
            KafkaTelemetryMiddleware(
                tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
            )
        ],
        logger=logging.getLogger(f"{telemetry.service}.broker"),
        log_level=logging.DEBUG,  # "Received"/"Processed" per record: debug only, it costs CPU under load
    )


async def publish_record(broker: KafkaBroker, record: dict[str, Any]) -> None:
    """Publish one outbox record (already a CloudEvent in binary mode) and wait for the ack."""
    await broker.publish(
        record["value"].encode(),
        topic=record["topic"],
        key=record["key"].encode(),
        headers=dict(record["headers"]),
    )


async def ensure_topics(bootstrap_servers: str, topics: Iterable[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="dinamis-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in dict.fromkeys(topics) if t not in existing]
        for topic in wanted:
            try:
                await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def kafka_ready(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()
