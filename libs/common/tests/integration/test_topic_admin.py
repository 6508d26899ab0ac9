"""Topics created and kept in step with their declaration, on the real Kafka."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from dinamis_common.messaging.broker import KafkaAuth, ensure_topics
from dinamis_contracts.topics import by_name, topic_configs

pytestmark = pytest.mark.integration


async def _state(bootstrap: str, name: str, auth: KafkaAuth) -> tuple[int, int, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **auth.client_options())
    await admin.start()
    try:
        [topic] = await admin.describe_topics([name])
        [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    config = {e["config_names"]: e["config_value"] for e in described.to_object()["resources"][0]["config_entries"]}
    return len(topic["partitions"]), len(topic["partitions"][0]["replicas"]), config


async def test_the_table_creates_its_topics_once_with_their_configuration(servers, unique):
    ns = f"t{unique}."
    specs = topic_configs(namespace=ns, topics=[by_name()["accounts.entity.events.v1"],
                                                by_name()["requests.entities.dlq"]])
    first = await ensure_topics(servers.kafka, specs, auth=servers.kafka_auth)
    again = await ensure_topics(servers.kafka, specs, reconcile=True, auth=servers.kafka_auth)

    assert sorted(first.created) == sorted(s["name"] for s in specs)
    assert (again.created, again.grown, again.reconfigured) == ([], [], [])
    partitions, replicas, config = await _state(servers.kafka, f"{ns}accounts.entity.events.v1",
                                                servers.kafka_auth)
    assert (partitions, replicas) == (3, 1)  # production's 3 replicas, held by the one broker there is
    assert config["cleanup.policy"] == "compact" and config["retention.ms"] == "-1"
    assert config["min.insync.replicas"] == "1"
    assert (await _state(servers.kafka, f"{ns}requests.entities.dlq", servers.kafka_auth))[0] == 1


async def test_a_changed_declaration_adds_partitions_and_configuration_but_never_removes(servers, unique):
    name = f"it.topics.{unique}"
    declared = {"name": name, "partitions": 2, "replication_factor": 3,
                "config": {"cleanup.policy": "delete", "retention.ms": "86400000", "min.insync.replicas": "2"}}
    await ensure_topics(servers.kafka, [declared], auth=servers.kafka_auth)

    changed = {**declared, "partitions": 4, "config": {**declared["config"], "retention.ms": "3600000"}}
    # a service at start: creation only
    without_reconcile = await ensure_topics(servers.kafka, [changed], auth=servers.kafka_auth)
    assert (without_reconcile.grown, without_reconcile.reconfigured) == ([], [])
    done = await ensure_topics(servers.kafka, [changed], reconcile=True, auth=servers.kafka_auth)
    assert (done.created, done.grown, done.reconfigured) == ([], [name], [name])
    partitions, _, config = await _state(servers.kafka, name, servers.kafka_auth)
    assert partitions == 4 and config["retention.ms"] == "3600000" and config["min.insync.replicas"] == "1"

    fewer = await ensure_topics(servers.kafka, [{**changed, "partitions": 1}], reconcile=True,
                                auth=servers.kafka_auth)
    assert fewer.grown == [] and (await _state(servers.kafka, name, servers.kafka_auth))[0] == 4
