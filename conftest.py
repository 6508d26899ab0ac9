"""Fixtures shared by every test tier: where the real servers are, and development tokens.

Resolution order for each server (DEVELOPERS.md): ``KAFKA_BOOTSTRAP_SERVERS`` /
``MONGODB_URI`` / ``POSTGRES_DSN`` when set → testcontainers when a Docker engine answers →
the local processes the project's own stack scripts start (profile ``test``).
On the local stack the tests connect as its administrator (``Profile.mongodb_uri`` /
``postgres_dsn``: the password generated for the profile, never written here), which may create the
tests' own databases ``t<unique>_<service>``; the services get users of their own (``service_env``).
Unit tests use none of these fixtures and need no server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent


@dataclass(frozen=True)
class Servers:
    kafka: str
    mongodb_uri: str
    postgres_dsn: str
    # the S3 object store and its administrator's keys (every bucket); empty where no store is known
    object_store_url: str = ""
    object_store_admin_keys: tuple[str, str] = ("", "")
    # the Kafka administrator's login (a dinamis_common.messaging.broker.KafkaAuth): none on PLAINTEXT
    kafka_auth: Any = field(default_factory=lambda: _no_kafka_auth())


def _no_kafka_auth() -> Any:
    from dinamis_common.messaging.broker import NO_AUTH

    return NO_AUTH


def _env_kafka_auth() -> Any:
    """The Kafka login of ``KAFKA_SECURITY_PROTOCOL`` / ``KAFKA_SASL_MECHANISM`` / ``KAFKA_USERNAME`` /
    ``KAFKA_PASSWORD`` (an administrator: the tests create and read namespaced topics and groups)."""
    from dinamis_common.messaging.broker import KafkaAuth

    return KafkaAuth(os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
                     os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                     os.environ.get("KAFKA_USERNAME", ""), os.environ.get("KAFKA_PASSWORD", ""))


def _docker_engine() -> bool:
    try:
        import docker

        return bool(docker.from_env(timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    kafka, mongo, pg = (os.environ.get(k) for k in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "POSTGRES_DSN"))
    if kafka and mongo and pg:  # someone else's servers; Kafka's login as the services' settings name it
        yield Servers(kafka, mongo, pg, kafka_auth=_env_kafka_auth())
        return
    if _docker_engine():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer
        from testcontainers.postgres import PostgresContainer

        started = []
        if not kafka:
            started.append(c := KafkaContainer().with_kraft().start())
            kafka = c.get_bootstrap_server()
        if not mongo:
            started.append(c := MongoDbContainer("mongo:8").start())
            mongo = c.get_connection_url()
        if not pg:
            started.append(c := PostgresContainer("postgis/postgis:15-3.5").start())
            pg = c.get_connection_url(driver=None)
        yield Servers(kafka, mongo, pg)
        for c in started:
            c.stop()
        return
    from dinamis_cli import stack

    profile = stack.load_profile("test")
    stack.start_servers(profile)
    from dinamis_cli.stack.servers import kafka_auth, objectstore_keys, objectstore_url

    yield Servers(profile.kafka_bootstrap, profile.mongodb_uri, profile.postgres_dsn,
                  object_store_url=objectstore_url(profile), object_store_admin_keys=objectstore_keys(profile, "admin"),
                  kafka_auth=kafka_auth(profile))


@pytest.fixture
def unique() -> str:
    """A suffix that keeps topics, groups and databases of one test apart from every other."""
    return uuid.uuid4().hex[:10]
