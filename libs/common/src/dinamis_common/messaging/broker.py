"""The faststream ``KafkaBroker`` every service uses, and topic administration."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from dinamis_common.telemetry import Telemetry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaAuth:
    """Who a client is to Kafka (``ServiceSettings.kafka_*``): nobody on PLAINTEXT, else a SASL user.
    Every broker, producer, consumer and admin client the platform makes is given one."""

    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def of(cls, settings: Any) -> KafkaAuth:
        """From a ``ServiceSettings`` (its password a ``SecretStr``)."""
        return cls(settings.kafka_security_protocol, settings.kafka_sasl_mechanism, settings.kafka_username,
                   settings.kafka_password.get_secret_value())

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's producer, consumer and admin client."""
        if not self.sasl:
            return {}
        if self.security_protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            ssl: dict[str, Any] = {"ssl_context": create_ssl_context()}
        else:
            ssl = {}
        return {"security_protocol": self.security_protocol, "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username, "sasl_plain_password": self.password, **ssl}

    def security(self) -> BaseSecurity | None:
        """faststream's ``KafkaBroker(security=...)``."""
        if not self.sasl:
            return None
        kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}
        if self.sasl_mechanism not in kind:
            raise ValueError(f"unsupported Kafka SASL mechanism {self.sasl_mechanism!r}")
        return kind[self.sasl_mechanism](self.username, self.password,
                                         use_ssl=self.security_protocol == "SASL_SSL")


NO_AUTH = KafkaAuth()


def make_broker(bootstrap_servers: str, telemetry: Telemetry, auth: KafkaAuth = NO_AUTH) -> KafkaBroker:
    """Idempotent producer, ``acks=all``: a record acknowledged is a record kept."""
    return KafkaBroker(
        bootstrap_servers,
        security=auth.security(),
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


TopicSpec = Mapping[str, Any]  # {"name", "partitions", "replication_factor", "config": {name: value}}
TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


@dataclass
class TopicChanges:
    created: list[str] = field(default_factory=list)
    grown: list[str] = field(default_factory=list)  # partitions added
    reconfigured: list[str] = field(default_factory=list)


def _spec(topic: str | TopicSpec, partitions: int) -> TopicSpec:
    if isinstance(topic, str):  # an ad hoc topic (tests): the broker's defaults
        return {"name": topic, "partitions": partitions, "replication_factor": 1, "config": {}}
    return topic


def _held(spec: TopicSpec, replicas: int) -> TopicSpec:
    """The spec as ``replicas`` copies can hold it: ``min.insync.replicas`` never above them (else
    every ``acks=all`` write would be refused)."""
    config = {k: str(v) for k, v in (spec.get("config") or {}).items()}
    if "min.insync.replicas" in config:
        config["min.insync.replicas"] = str(min(int(config["min.insync.replicas"]), replicas))
    return {**spec, "replication_factor": replicas, "config": config}


async def ensure_topics(bootstrap_servers: str, topics: Iterable[str | TopicSpec], partitions: int = 3, *,
                        reconcile: bool = False, auth: KafkaAuth = NO_AUTH) -> TopicChanges:
    """Creates the topics that do not exist (``dinamis_contracts.topics.topic_configs()`` gives the
    specs; a bare name gets ``partitions`` and the broker's defaults). Replication is capped at the
    number of brokers. With ``reconcile``, existing topics also get the partitions they lack and the
    configuration the spec gives; nothing is ever deleted or shrunk."""
    specs = {s["name"]: s for s in (_spec(t, partitions) for t in topics)}
    changes = TopicChanges()
    if not specs:
        return changes
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="dinamis-topics",
                                **auth.client_options())
    await admin.start()
    try:
        # asking for a missing topic by name would make a broker that auto-creates topics create it
        present = {n for n in await admin.list_topics() if n in specs}
        if present == set(specs) and not reconcile:
            return changes  # a service starting on a ready cluster: one metadata request, nothing else
        brokers = max(1, len((await admin.describe_cluster())["brokers"]))
        existing = {t["topic"]: t["partitions"] for t in (await admin.describe_topics(sorted(present)) if present
                                                          else []) if t["error_code"] == 0}
        missing = [_held(s, min(s["replication_factor"], brokers)) for n, s in specs.items() if n not in existing]
        if fewer := [s["name"] for s in missing if s["replication_factor"] < specs[s["name"]]["replication_factor"]]:
            log.info("%d topic(s) get fewer replicas than declared: the cluster has %d broker(s)", len(fewer), brokers)
        if missing:
            await _create(admin, missing, changes)
        if reconcile:
            grow = {n: NewPartitions(specs[n]["partitions"]) for n, parts in existing.items()
                    if len(parts) < specs[n]["partitions"]}
            if grow:
                await admin.create_partitions(grow)
                changes.grown.extend(sorted(grow))
            held = [_held(specs[n], max(1, min(len(p["replicas"]) for p in parts) if parts else 1))
                    for n, parts in existing.items()]
            await _configure(admin, held, changes)
    finally:
        await admin.close()
    return changes


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec], changes: TopicChanges) -> None:
    response = (await admin.create_topics([
        NewTopic(s["name"], num_partitions=s["partitions"], replication_factor=s["replication_factor"],
                 topic_configs=s["config"]) for s in specs])).to_object()
    failed = {e["topic"]: e["error_message"] for e in response["topic_errors"]
              if e["error_code"] not in (0, TOPIC_ALREADY_EXISTS)}  # another process won the race: fine
    if failed:
        raise RuntimeError(f"Kafka refused to create topics: {failed}")
    changes.created.extend(e["topic"] for e in response["topic_errors"] if e["error_code"] == 0)


async def _configure(admin: AIOKafkaAdminClient, specs: list[TopicSpec], changes: TopicChanges) -> None:
    specs = [s for s in specs if s["config"]]
    if not specs:
        return
    described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, s["name"]) for s in specs])
    current = {r["resource_name"]: {e["config_names"]: e["config_value"] for e in r["config_entries"]}
               for response in described for r in response.to_object()["resources"]}
    stale = [s for s in specs if any(current.get(s["name"], {}).get(k) != v for k, v in s["config"].items())]
    if not stale:
        return
    # AlterConfigs replaces the topic's whole dynamic configuration: the spec is all of it
    responses = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, s["name"], s["config"])
                                           for s in stale])
    errors = {r["resource_name"]: r["error_message"] for response in responses
              for r in response.to_object()["resources"] if r["error_code"]}
    if errors:
        raise RuntimeError(f"Kafka refused topic configuration: {errors}")
    changes.reconfigured.extend(s["name"] for s in stale)


async def kafka_ready(bootstrap_servers: str, auth: KafkaAuth = NO_AUTH) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000,
                                **auth.client_options())
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


# --- AsyncAPI ------------------------------------------------------------------------------------

CLOUDEVENTS = ("CloudEvent 1.0 in Kafka binary mode: the type in the ce_type header, the aggregate id in "
               "ce_subject and as the record key, the payload below as the JSON value")


def declare_publishers(broker: KafkaBroker, topic: str, events: Mapping[str, Any]) -> None:
    """Declares what ``topic`` carries (event type -> payload model) for the AsyncAPI document:
    one publisher per event type. The outbox relay publishes through the broker itself."""
    for event_type, payload in events.items():
        broker.publisher(topic, title=f"{topic}:{event_type}", schema=payload,
                         description=f"{event_type}: {CLOUDEVENTS}.")


def asyncapi(broker: KafkaBroker, title: str, version: str, events: Mapping[str, Mapping[str, Any]]) -> dict:
    """The AsyncAPI 3.0 document faststream generates from ``broker``'s subscribers and publishers;
    a channel read by a subscriber also names the event types it carries (``events``: topic ->
    event type -> payload model)."""
    from faststream.specification import AsyncAPI

    document = AsyncAPI(broker, title=title, version=version).to_specification().to_jsonable()
    for channel in document.get("channels", {}).values():
        carried = events.get(channel.get("address", ""))
        if carried and "description" not in channel:
            channel["description"] = f"Event types: {', '.join(carried)} ({CLOUDEVENTS})."
    return document
