"""The arbitration service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), a stand-in for the requests relay, and a reader of what the service
publishes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.mongo import make_mongo_client
from dinamis_contracts import arbitration, requests
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys
from dinamis_testkit.inprocess import InProcessServers, free_port

AUTO_ACCEPT_MAX_KM2 = 100.0


@dataclass
class ArbitrationService:
    url: str
    keys: tuple[Path, Path]
    producer: AIOKafkaProducer
    published: AIOKafkaConsumer  # the service's own case events, from the beginning
    ns: str

    async def submitted(self, event: CloudEvent) -> None:
        """Publishes a requests event as the requests relay does (key = request id)."""
        await self.producer.send_and_wait(self.ns + requests.TOPIC, event.body(), key=event.subject.encode(),
                                          headers=[(k, v.encode()) for k, v in event.headers().items()])


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    keys = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    port, ns = free_port(), f"t{unique}."
    settings = Settings(kafka_bootstrap_servers=servers.kafka, mongodb_uri=servers.mongodb_uri,
                        mongodb_database=f"t{unique}_arbitration", kafka_namespace=ns, auth_issuer=DEV_ISSUER,
                        auth_jwks_url=f"file://{keys[1]}", http_port=port, outbox_poll_seconds=0.5,
                        arbitration_auto_accept_max_km2=AUTO_ACCEPT_MAX_KM2)
    running = InProcessServers()
    await running.start(create_app(settings), port, "arbitration")
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka, acks="all")
    await producer.start()
    published = AIOKafkaConsumer(ns + arbitration.TOPIC, bootstrap_servers=servers.kafka, group_id=None,
                                 auto_offset_reset="earliest")
    await published.start()
    yield ArbitrationService(f"http://127.0.0.1:{port}", keys, producer, published, ns)
    await published.stop()
    await producer.stop()
    await running.stop()
    mongo = make_mongo_client(servers.mongodb_uri, "tests")
    await mongo.drop_database(settings.database_name)
    await mongo.close()
