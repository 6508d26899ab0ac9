"""A service app served in the test's own loop on the real Kafka and MongoDB-wire server, inside a
sandbox: a Kafka namespace and databases no other test shares, a development signing key,
stand-ins for the relays of the services it listens to and readers of what it publishes, all
stopped and dropped after (no test framework imported).

    async with serve_service(servers, keys_dir, "arbitration", create_app, Settings,
                             publishes=[arbitration.TOPIC], listens_to=requests.TOPIC) as service:
        await service.upstream.publish(event)            # as the requests relay would
        async with service.client(roles=["admin"]) as api: ...
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer
from dinamis_common.messaging.broker import NO_AUTH, KafkaAuth
from dinamis_common.mongo import make_mongo_client
from dinamis_common.settings import ServiceSettings
from pymongo.asynchronous.database import AsyncDatabase

from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys, mint_token
from dinamis_testkit.events import Publisher, reader
from dinamis_testkit.inprocess import InProcessServers, free_port

S = TypeVar("S", bound=ServiceSettings)


class Servers(Protocol):
    """Where the real servers are (the tests' ``servers`` fixture)."""

    kafka: str
    mongodb_uri: str


def bearer_client(url: str, keys: tuple[Path, Path], user: str | None = "someone", timeout: float = 15.0,
                  **claims: Any) -> httpx.AsyncClient:
    """A client of ``url`` whose calls carry a token of ``user`` signed with the development key
    (``claims``: ``entity``, ``roles``, ``cells``, ``category`` as ``mint_token`` takes them);
    ``user=None``: no token at all."""
    claims.setdefault("entity", None)
    headers = {"authorization": f"Bearer {mint_token(*keys, user=user, **claims)}"} if user else {}
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout)


@dataclass
class ServedService:
    url: str
    keys: tuple[Path, Path]  # the development signing key and the JWKS the service trusts
    settings: ServiceSettings
    db: AsyncDatabase  # its own database, through the sandbox's client
    published: AIOKafkaConsumer | None = None  # its records on the topics it was said to publish, from the first
    upstream: Publisher | None = None  # a stand-in for the relay publishing the topic it listens to

    def client(self, user: str | None = "someone", timeout: float = 15.0, **claims: Any) -> httpx.AsyncClient:
        return bearer_client(self.url, self.keys, user, timeout, **claims)


class Sandbox:
    """What the services of one test module share and nobody else does: the Kafka namespace
    ``t<unique>.``, databases ``t<unique>_<service>`` and a development signing key."""

    def __init__(self, servers: Servers, keys_dir: Path) -> None:
        self.kafka, self.mongodb_uri = servers.kafka, servers.mongodb_uri
        # the Kafka administrator: the sandbox's services use namespaced topics the table's ACLs do not name
        self.kafka_auth: KafkaAuth = getattr(servers, "kafka_auth", NO_AUTH)
        self.keys = ensure_dev_keys(keys_dir)
        self.unique = uuid.uuid4().hex[:10]
        self.namespace = f"t{self.unique}."
        self.mongo = make_mongo_client(self.mongodb_uri, "tests")
        self._running = InProcessServers()
        self._databases: list[str] = []
        self._clients: list[Publisher | AIOKafkaConsumer] = []

    def settings(self, settings_class: Callable[..., S], name: str, **overrides: Any) -> S:
        """``settings_class`` pointed at the real servers, the namespace, a database of its own, the
        development key and a free port; ``overrides`` win."""
        return settings_class(**{
            "kafka_bootstrap_servers": self.kafka, "mongodb_uri": self.mongodb_uri,
            "kafka_security_protocol": self.kafka_auth.security_protocol,
            "kafka_sasl_mechanism": self.kafka_auth.sasl_mechanism, "kafka_username": self.kafka_auth.username,
            "kafka_password": self.kafka_auth.password,
            "mongodb_database": f"t{self.unique}_{name}", "kafka_namespace": self.namespace,
            "auth_issuer": DEV_ISSUER, "auth_jwks_url": f"file://{self.keys[1]}", "http_port": free_port(),
            "outbox_poll_seconds": 0.5, **overrides})

    async def serve(self, name: str, create_app: Callable[[S], Any], settings_class: Callable[..., S], *,
                    publishes: Iterable[str] = (), listens_to: str | None = None, consumed_by: str | None = None,
                    **overrides: Any) -> ServedService:
        """Serves ``create_app(settings)`` until the sandbox closes (then drops its database). With
        ``publishes``: a reader of those topics; with ``listens_to``: a stand-in for that topic's relay,
        which waits for the group ``consumed_by`` when given (names without the namespace)."""
        settings = self.settings(settings_class, name, **overrides)
        self._databases.append(settings.database_name)
        await self._running.start(create_app(settings), settings.http_port, name)
        upstream = await self.publisher(listens_to, consumed_by) if listens_to else None
        published = await self.reader(*publishes) if publishes else None
        return ServedService(f"http://127.0.0.1:{settings.http_port}", self.keys, settings,
                             self.mongo[settings.database_name], published, upstream)

    async def publisher(self, topic: str, group: str | None = None) -> Publisher:
        """Publishes to ``topic`` of the namespace as its relay would (stopped when the sandbox closes)."""
        publisher = Publisher(self.kafka, self.namespace + topic, self.namespace + group if group else None,
                              self.kafka_auth)
        await publisher.start()
        self._clients.append(publisher)
        return publisher

    async def reader(self, *topics: str) -> AIOKafkaConsumer:
        """Reads ``topics`` of the namespace from their first record (stopped when the sandbox closes)."""
        consumer = reader(self.kafka, *(self.namespace + t for t in topics), auth=self.kafka_auth)
        await consumer.start()
        self._clients.append(consumer)
        return consumer

    async def close(self) -> None:
        try:
            for c in reversed(self._clients):
                await c.stop()
            await self._running.stop()
            for name in self._databases:
                await self.mongo.drop_database(name)
        finally:
            await self.mongo.close()


@asynccontextmanager
async def sandbox(servers: Servers, keys_dir: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(servers, keys_dir)
    try:
        yield box
    finally:
        await box.close()


@asynccontextmanager
async def serve_service(servers: Servers, keys_dir: Path, name: str, create_app: Callable[[S], Any],
                        settings_class: Callable[..., S], **options: Any) -> AsyncIterator[ServedService]:
    """One service in a sandbox of its own (``options`` as :meth:`Sandbox.serve` takes them)."""
    async with sandbox(servers, keys_dir) as box:
        yield await box.serve(name, create_app, settings_class, **options)
