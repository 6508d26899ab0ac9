"""The gauge ``dinamis.consumer.dlq_waiting`` on the real Kafka: what waits in each group's DLQ, as
an operator's dashboard shows it, and what it shows while Kafka does not answer."""

from __future__ import annotations

import asyncio
import logging

import pytest
from dinamis_common.messaging.broker import ensure_topics, make_broker
from dinamis_common.messaging.consumer import PermanentError, dlq_topic
from dinamis_common.messaging.dlq import DeadLetters, DlqWaiting
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.runtime import Runtime
from dinamis_common.settings import ServiceSettings
from dinamis_common.telemetry import Telemetry, setup_telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

pytestmark = pytest.mark.integration

GAUGE = "dinamis.consumer.dlq_waiting"


def _gauge(reader: InMemoryMetricReader) -> dict[str, int]:
    """The gauge's last values by group, as an exporter reads them."""
    data = reader.get_metrics_data()
    return {point.attributes["group"]: point.value
            for resource in (data.resource_metrics if data else []) for scope in resource.scope_metrics
            for metric in scope.metrics if metric.name == GAUGE for point in metric.data.data_points}


async def _until(reader: InMemoryMetricReader, expected: dict[str, int], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (seen := _gauge(reader)) != expected:
        if loop.time() > deadline:
            raise AssertionError(f"{GAUGE} is {seen}, not {expected}")
        await asyncio.sleep(0.1)


def _event(subject: str) -> CloudEvent:
    return CloudEvent(type="fr.dinamis.test.case.opened.v1", source="/tests", subject=subject, data={})


async def test_a_service_shows_what_waits_in_its_dlq_until_it_is_replayed(servers, unique):
    reader = InMemoryMetricReader()
    telemetry = Telemetry("dlq-metric-test", TracerProvider(), MeterProvider(metric_readers=[reader]))
    namespace = f"it.{unique}."
    auth = servers.kafka_auth
    settings = ServiceSettings(service_name="dlq-metric-test", kafka_bootstrap_servers=servers.kafka,
                               kafka_namespace=namespace, dlq_metric_seconds=0.2,
                               kafka_security_protocol=auth.security_protocol, kafka_sasl_mechanism=auth.sasl_mechanism,
                               kafka_username=auth.username, kafka_password=auth.password)
    runtime = Runtime(settings, with_mongo=False, telemetry=telemetry)
    refusing = True

    async def handler(event: CloudEvent) -> None:  # once replayed, the record is handled (test_dlq_cli)
        if refusing:
            raise PermanentError(f"case {event.subject} unknown here")

    runtime.subscribe("tests.cases", "tests.metric", handler)
    group = namespace + "tests.metric"
    await runtime.start()  # creates the topic and the group's retry and dead-letter topics
    try:
        await _until(reader, {group: 0})

        event = _event("case-1")
        assert runtime.broker is not None
        await runtime.broker.publish(event.body(), topic=namespace + "tests.cases", key=b"case-1",
                                     headers=event.headers())
        await _until(reader, {group: 1})

        refusing = False  # what was missing is there now: the operator replays it
        async with DeadLetters(servers.kafka, group, servers.kafka_auth) as dead:
            assert [dict(r.headers)["ce_id"].decode() for r in await dead.replay(await dead.records())] == [event.id]
        await _until(reader, {group: 0})
        await asyncio.sleep(1.0)
        assert _gauge(reader) == {group: 0}  # the replayed record was handled, not dead-lettered again
    finally:
        await runtime.stop()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "dlq-waiting"]  # stopped with the runtime


async def test_while_kafka_does_not_answer_the_last_count_stays_and_counting_resumes(servers, unique, caplog):
    group = f"tests.metric-outage.{unique}"
    await ensure_topics(servers.kafka, [dlq_topic(group)], auth=servers.kafka_auth)
    broker = make_broker(servers.kafka, setup_telemetry("dlq-metric-test"), servers.kafka_auth)
    await broker.start()
    reader = InMemoryMetricReader()
    waiting = DlqWaiting(servers.kafka, [group], MeterProvider(metric_readers=[reader]).get_meter("t"), 0.2,
                         auth=servers.kafka_auth)
    waiting.start()
    try:
        for n in range(2):
            event = _event(f"case-{n}")
            await broker.publish(event.body(), topic=dlq_topic(group), key=b"k", headers=event.headers())
        await _until(reader, {group: 2})

        waiting.bootstrap = "127.0.0.1:9"  # Kafka away: nothing listens there
        with caplog.at_level(logging.WARNING, logger="dinamis_common.messaging.dlq"):
            for _ in range(100):
                if any("not counted" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.1)
        warnings = [r for r in caplog.records if "not counted" in r.getMessage()]
        assert warnings and warnings[0].levelno == logging.WARNING and group in warnings[0].getMessage()
        assert _gauge(reader) == {group: 2}
        assert [t for t in asyncio.all_tasks() if t.get_name() == "dlq-waiting"]  # still counting, every period

        event = _event("case-2")
        await broker.publish(event.body(), topic=dlq_topic(group), key=b"k", headers=event.headers())
        waiting.bootstrap = servers.kafka  # back
        await _until(reader, {group: 3})
    finally:
        await waiting.stop()
        await broker.stop()
