"""``dinamis dlq list|show|replay`` on the real Kafka, as an operator uses it on a group's DLQ."""

from __future__ import annotations

import asyncio
import json

import pytest
from dinamis_cli.main import app
from dinamis_common.messaging.broker import ensure_topics, make_broker
from dinamis_common.messaging.consumer import PermanentError, consumer_topics, dlq_topic, retry_topic, subscribe
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.telemetry import setup_telemetry
from typer.testing import CliRunner

pytestmark = pytest.mark.integration


async def _wait_for(predicate, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def dinamis(servers):
    runner = CliRunner()

    async def run(*args: str, code: int = 0, kafka: str = servers.kafka):
        auth = servers.kafka_auth  # the CLI logs in to a Kafka given by address as these variables say
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "COLUMNS": "250",  # wide enough for whole event ids
               "KAFKA_SECURITY_PROTOCOL": auth.security_protocol, "KAFKA_SASL_MECHANISM": auth.sasl_mechanism,
               "KAFKA_USERNAME": auth.username, "KAFKA_PASSWORD": auth.password}
        result = await asyncio.to_thread(runner.invoke, app, list(args), env=env)
        assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
        return result

    return run


async def test_an_operator_lists_shows_and_replays_what_a_group_set_aside(servers, unique, topic_reader, dinamis):
    topic, group = f"it.dlq.{unique}", f"tests.dlq.{unique}"
    await ensure_topics(servers.kafka, consumer_topics(topic, group), auth=servers.kafka_auth)
    refusing = True
    applied: list[str] = []

    async def handler(event: CloudEvent) -> None:
        if refusing:
            raise PermanentError(f"case {event.subject} unknown here")
        applied.append(event.id)

    broker = make_broker(servers.kafka, setup_telemetry("dlq-test"), servers.kafka_auth)
    subscribe(broker, topic, group, handler)
    await broker.start()
    try:
        events = [CloudEvent(type="fr.dinamis.test.case.opened.v1", source="/tests", subject=f"case-{n}", data={})
                  for n in range(3)]
        sent = [await broker.publish(e.body(), topic=topic, key=e.subject.encode(), headers=e.headers())
                for e in events]
        await (await topic_reader(dlq_topic(group))).read(until=3)
        refusing = False  # what was missing is there now: the operator replays

        listed = json.loads((await dinamis("dlq", "list", "--json")).stdout)
        assert {"group": group, "topic": dlq_topic(group), "waiting": 3, "dead_lettered": 3,
                "replayed": 0} in listed

        shown = json.loads((await dinamis("dlq", "show", group, "--json")).stdout)
        assert sorted(r["id"] for r in shown) == sorted(e.id for e in events)
        first = next(r for r in shown if r["id"] == events[0].id)
        assert first["type"] == "fr.dinamis.test.case.opened.v1" and first["subject"] == "case-0"
        assert first["reason"] == "PermanentError: case case-0 unknown here" and first["attempts"] == 1
        assert (first["topic"], first["partition"], first["offset"]) == (topic, sent[0].partition, sent[0].offset)
        assert first["failed_at"].endswith("Z")
        assert len(json.loads((await dinamis("dlq", "show", group, "--limit", "1", "--json")).stdout)) == 1
        table = (await dinamis("dlq", "show", dlq_topic(group))).stdout  # the DLQ's name works too
        assert events[2].id in table and "3 waiting" in table

        replayed = json.loads((await dinamis("dlq", "replay", group, "--id", events[0].id, "--json")).stdout)
        assert [r["id"] for r in replayed["replayed"]] == [events[0].id] and replayed["waiting"] == 2
        await _wait_for(lambda: applied == [events[0].id])
        again = await dinamis("dlq", "replay", group, "--id", events[0].id, code=1)
        assert "not waiting" in again.stderr
        listed = json.loads((await dinamis("dlq", "list", "--json")).stdout)
        assert next(r for r in listed if r["group"] == group)["waiting"] == 2

        rest = await dinamis("dlq", "replay", group, "--all")
        assert "replayed 2" in rest.stderr
        await _wait_for(lambda: sorted(applied) == sorted(e.id for e in events))
        nothing = await dinamis("dlq", "replay", group, "--all")
        assert "nothing to replay" in nothing.stderr
        listed = json.loads((await dinamis("dlq", "list", "--json")).stdout)
        assert next(r for r in listed if r["group"] == group) == {
            "group": group, "topic": dlq_topic(group), "waiting": 0, "dead_lettered": 3, "replayed": 3}

        retried = await (await topic_reader(retry_topic(group))).read(until=10, timeout=3)
        assert sorted(dict(r.headers)["ce_id"].decode() for r in retried) == sorted(e.id for e in events)
        assert {dict(r.headers)["x-dinamis-attempts"] for r in retried} == {b"0"}
        await asyncio.sleep(1.0)
        assert sorted(applied) == sorted(e.id for e in events)  # each once
    finally:
        await broker.stop()


async def test_a_group_without_a_dlq_is_named_and_kafka_away_is_said(dinamis, unique):
    missing = await dinamis("dlq", "show", f"tests.none.{unique}", code=1)
    assert f"no topic tests.none.{unique}.dlq" in missing.stderr
    await dinamis("dlq", "replay", f"tests.none.{unique}", code=2)  # neither --id nor --all
    away = await dinamis("dlq", "list", code=2, kafka="127.0.0.1:9")
    assert "Kafka at 127.0.0.1:9 did not answer" in away.stderr
