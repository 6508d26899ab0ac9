"""The composition helpers every service's ``main`` uses: one object owning the clients
(MongoDB, Kafka broker, outbox relay, telemetry), started and stopped by the app lifespan.
Nothing here runs at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace.export import SpanExporter
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from dinamis_common.auth import JwksVerifier
from dinamis_common.http import InputLimits, create_service_app
from dinamis_common.logging import configure_logging
from dinamis_common.messaging.broker import (
    KafkaAuth,
    asyncapi,
    declare_publishers,
    ensure_topics,
    kafka_ready,
    make_broker,
    publish_record,
)
from dinamis_common.messaging.consumer import Handler, consumer_topics, subscribe
from dinamis_common.messaging.dlq import DlqWaiting
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.messaging.relay import OutboxRelay
from dinamis_common.mongo import make_mongo_client, ping
from dinamis_common.settings import ServiceSettings
from dinamis_common.telemetry import Telemetry, setup_telemetry

log = logging.getLogger(__name__)


class TopicTable(Protocol):
    """The platform's declared topics (``dinamis_contracts.topics``), handed over by each service's
    composition root: this library knows how to create topics, not which ones exist."""

    def by_name(self) -> Mapping[str, Any]: ...

    def render(self, topic: Any, brokers: int | None = None, namespace: str = "") -> dict[str, Any]: ...


class _NoTopics:
    def by_name(self) -> Mapping[str, Any]:
        return {}

    def render(self, topic: Any, brokers: int | None = None, namespace: str = "") -> dict[str, Any]:
        raise KeyError(topic)


class Runtime:
    def __init__(self, settings: ServiceSettings, span_exporter: SpanExporter | None = None,
                 with_kafka: bool = True, with_mongo: bool = True, topics: TopicTable | None = None,
                 telemetry: Telemetry | None = None) -> None:
        """``telemetry``: providers built by the caller (a test's in-memory metric reader), else
        the service's own, exporting to ``otel_exporter_otlp_endpoint``."""
        self.settings = settings
        self.kafka_auth = KafkaAuth.of(settings)  # the service's own Kafka user (none on PLAINTEXT)
        self.topic_table: TopicTable = topics or _NoTopics()
        self.telemetry: Telemetry = telemetry or setup_telemetry(
            settings.service_name, settings.otel_exporter_otlp_endpoint, span_exporter
        )
        self.verifier = JwksVerifier(
            settings.auth_jwks_url, settings.auth_issuer, settings.auth_audience, settings.auth_leeway_seconds
        )
        self.mongo: AsyncMongoClient | None = (
            make_mongo_client(settings.mongodb_uri, settings.service_name, self.telemetry) if with_mongo else None
        )
        self.broker: KafkaBroker | None = (
            make_broker(settings.kafka_bootstrap_servers, self.telemetry, self.kafka_auth) if with_kafka else None
        )
        self.relay: OutboxRelay | None = None
        self.extra_relays: list[OutboxRelay] = []  # other side effects (e-mails), added before store()
        self._topics: set[str] = set()
        self._groups: set[str] = set()
        self.dlq_waiting: DlqWaiting | None = None  # the gauge of the groups' DLQ sizes, once started
        self.extra_checks: dict[str, Any] = {}
        self.before_start: list[Callable[[], Awaitable[None]]] = []
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []

    @property
    def db(self) -> AsyncDatabase:
        assert self.mongo is not None
        return self.mongo[self.settings.database_name]

    def store(self, collection: str, effects: tuple[str, ...] = ()) -> AggregateStore:
        """An aggregate collection whose changes' events this process relays to Kafka (``effects``:
        other side effects its changes carry, relayed by relays the service adds)."""
        assert self.broker is not None
        if self.relay is None:
            broker = self.broker

            namespace = self.settings.kafka_namespace

            async def publish(record: dict[str, Any]) -> None:
                await publish_record(broker, {**record, "topic": namespace + record["topic"]})

            self.relay = OutboxRelay([], publish, poll_seconds=self.settings.outbox_poll_seconds,
                                     meter=self.telemetry.meter("dinamis.relay"))
        relays = [self.relay, *self.extra_relays]
        store = AggregateStore(self.db[collection], lambda s, change: [r.wake(s, change) for r in relays],
                               effects=effects, max_record_bytes=self.settings.max_event_bytes,
                               retention=timedelta(seconds=self.settings.changes_retention_seconds))
        self.relay.add(store)
        return store

    def topic_names(self) -> list[str]:
        """Every topic this process publishes to or reads (its groups' retry and dead-letter
        topics included), namespaced."""
        return sorted(self._topics)

    def topic_specs(self) -> list[dict[str, Any]]:
        """``topic_names()`` as ``dinamis_contracts.topics`` declares them (namespaced copies when
        ``kafka_namespace`` is set)."""
        ns, table = self.settings.kafka_namespace, self.topic_table.by_name()
        specs: list[dict[str, Any]] = []
        for name in sorted(self._topics):
            declared = table.get(name.removeprefix(ns)) if name.startswith(ns) else None
            if declared is None:  # a test in libs/contracts fails on it; here it gets the broker's defaults
                log.warning("topic %s is not declared in dinamis_contracts.topics", name)
                specs.append({"name": name, "partitions": 3, "replication_factor": 1, "config": {}})
            else:
                specs.append(self.topic_table.render(declared, namespace=ns))
        return specs

    def publishes(self, *topics: str) -> None:
        ns, table = self.settings.kafka_namespace, self.topic_table.by_name()
        self._topics.update(ns + t for t in topics)
        for t in topics:
            if self.broker is not None and t in table:
                declare_publishers(self.broker, ns + t, table[t].events)

    def asyncapi(self) -> dict[str, Any]:
        """This service's AsyncAPI document (``GET /asyncapi``): generated by faststream from the
        broker's subscribers and the publishers ``publishes`` declared from the topic table."""
        title, version = f"DINAMIS {self.settings.service_name}", "1"
        if self.broker is None:
            return {"asyncapi": "3.0.0", "info": {"title": title, "version": version}, "channels": {},
                    "operations": {}}
        ns, table = self.settings.kafka_namespace, self.topic_table.by_name()
        events = {name: table[name.removeprefix(ns)].events for name in self._topics
                  if name.startswith(ns) and name.removeprefix(ns) in table}
        return asyncapi(self.broker, title, version, events)

    def subscribe(self, topic: str, group: str, handler: Handler) -> None:
        assert self.broker is not None
        ns = self.settings.kafka_namespace
        self._topics.update(consumer_topics(ns + topic, ns + group))  # with <group>.retry and <group>.dlq
        self._groups.add(ns + group)
        subscribe(self.broker, ns + topic, ns + group, handler, max_attempts=self.settings.consumer_max_attempts,
                  meter=self.telemetry.meter("dinamis.consumer"),
                  commit_interval=self.settings.consumer_commit_interval_ms / 1000)

    async def start(self, indexed: Iterable[Any] = ()) -> None:
        """Create indexes (what real MongoDB needs), this service's topics (those missing, as the
        topic table declares them), then consume, count what waits in its groups' DLQs (the gauge
        ``dinamis.consumer.dlq_waiting``, every ``dlq_metric_seconds``) and relay."""
        for hook in self.before_start:
            await hook()
        for owner in indexed:
            await owner.ensure_indexes()
        if self.broker is not None:
            await ensure_topics(self.settings.kafka_bootstrap_servers, self.topic_specs(), auth=self.kafka_auth)
            await self.broker.start()
            if self._groups:
                if self.dlq_waiting is None:
                    self.dlq_waiting = DlqWaiting(
                        self.settings.kafka_bootstrap_servers, self._groups,
                        self.telemetry.meter("dinamis.consumer"), self.settings.dlq_metric_seconds,
                        client_id=f"{self.settings.service_name}-dlq-metric", auth=self.kafka_auth)
                self.dlq_waiting.start()
        if self.relay is not None:
            self.relay.start()
        for hook in self.on_start:
            await hook()

    async def stop(self) -> None:
        for hook in self.on_stop:
            await hook()
        if self.relay is not None:
            await self.relay.stop()
        if self.dlq_waiting is not None:
            await self.dlq_waiting.stop()
        if self.broker is not None:
            await self.broker.stop()
        if self.mongo is not None:
            await self.mongo.close()
        self.telemetry.tracer_provider.force_flush()

    def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        if self.mongo is not None:
            mongo = self.mongo
            checks["mongodb"] = lambda: ping(mongo)
        if self.broker is not None:
            bootstrap, auth = self.settings.kafka_bootstrap_servers, self.kafka_auth
            checks["kafka"] = lambda: kafka_ready(bootstrap, auth)
        return {**checks, **self.extra_checks}


    def create_app(self, *, title: str, routers: Iterable[APIRouter] = (), indexed: Iterable[Any] = (),
                   error_table: Mapping[type[Exception], int] | None = None, **state: Any) -> FastAPI:
        """The service's FastAPI app, whose lifespan starts and stops this runtime."""
        indexed = list(indexed)

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start(indexed)
            yield
            await self.stop()

        app = create_service_app(title=title, telemetry=self.telemetry, lifespan=lifespan,
                                 readiness=lambda _: self.readiness(), error_table=error_table,
                                 max_body_bytes=self.settings.max_body_bytes,
                                 max_in_flight=self.settings.max_in_flight,
                                 input_limits=InputLimits(self.settings.max_json_depth,
                                                          self.settings.max_json_number_chars))
        app.state.runtime = self
        app.state.verifier = self.verifier
        for key, value in state.items():
            setattr(app.state, key, value)
        for router in routers:
            app.include_router(router)
        document: dict[str, Any] = {}

        async def asyncapi_document() -> dict[str, Any]:
            if not document:
                document.update(self.asyncapi())
            return document

        app.add_api_route("/asyncapi", asyncapi_document, methods=["GET"], tags=["meta"],
                          summary="The service's topics and event types (AsyncAPI 3.0, generated by faststream)")
        return app


def server_config(app: Any, settings: ServiceSettings) -> uvicorn.Config:
    """How a service's app is served (``serve``; tests serve it the same way in their own loop).

    Idle connections are kept ``http_keep_alive_seconds``, longer than the gateway's pool keeps
    them, so the gateway never sends on a connection the server is closing. No ``server`` header:
    what runs is nobody's business, and a proxied answer then carries no second one. Forwarded
    headers (``X-Forwarded-For`` / ``-Proto``) are believed only from ``forwarded_allow_ips``: by
    default from nobody, not even a local process (uvicorn's own default trusts 127.0.0.1)."""
    trusted = [ip.strip() for ip in settings.forwarded_allow_ips.split(",") if ip.strip()]
    return uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_config=None,
                          timeout_keep_alive=settings.http_keep_alive_seconds, server_header=False,
                          timeout_graceful_shutdown=10, proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted or None)


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run one service's app in this process (the ``python -m <name>_service`` entry point), as
    :func:`server_config` says."""
    configure_logging(settings.service_name, settings.log_level)
    server = uvicorn.Server(server_config(app, settings))
    server.run()
    if not server.started:  # as uvicorn.run: a process whose start failed exits non-zero
        raise SystemExit(3)
