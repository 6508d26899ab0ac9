"""The requests service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), a stand-in for the accounts relay publishing entity events, and a
reader of the events the service publishes."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.mongo import make_mongo_client
from dinamis_contracts import accounts, requests
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys
from dinamis_testkit.inprocess import InProcessServers, free_port
from pymongo.asynchronous.database import AsyncDatabase
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.accounts import GROUP as ENTITY_GROUP
from requests_service.settings import Settings


class AccountsRelay:
    """Publishes entity events as the accounts relay does (binary CloudEvents, key = entity id)
    and waits until the requests service has consumed all of them."""

    def __init__(self, bootstrap: str, ns: str) -> None:
        self.topic, self.group = ns + accounts.ENTITY_TOPIC, ns + ENTITY_GROUP
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.sent: dict[TopicPartition, int] = {}

    async def publish(self, *events: CloudEvent) -> None:
        for e in events:
            meta = await self.producer.send_and_wait(self.topic, e.body(), key=e.subject.encode(),
                                                     headers=[(k, v.encode()) for k, v in e.headers().items()])
            self.sent[TopicPartition(meta.topic, meta.partition)] = meta.offset + 1

    async def consumed(self, timeout: float = 20.0) -> None:
        """Returns once the service's consumer group has committed past every record sent."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            committed = await self.admin.list_consumer_group_offsets(self.group)
            if all(tp in committed and committed[tp].offset >= end for tp, end in self.sent.items()):
                return
            assert asyncio.get_running_loop().time() < deadline, "the requests service did not consume in time"
            await asyncio.sleep(0.1)


@dataclass
class RequestsService:
    url: str
    keys: tuple[Path, Path]
    accounts: AccountsRelay
    published: AIOKafkaConsumer  # the service's own request events, from the beginning
    db: AsyncDatabase


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    keys = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    port, ns = free_port(), f"t{unique}."
    settings = Settings(kafka_bootstrap_servers=servers.kafka, mongodb_uri=servers.mongodb_uri,
                        mongodb_database=f"t{unique}_requests", kafka_namespace=ns, auth_issuer=DEV_ISSUER,
                        auth_jwks_url=f"file://{keys[1]}", http_port=port, outbox_poll_seconds=0.5)
    running = InProcessServers()
    await running.start(create_app(settings), port, "requests")
    relay = AccountsRelay(servers.kafka, ns)
    await relay.producer.start()
    await relay.admin.start()
    published = AIOKafkaConsumer(ns + requests.TOPIC, bootstrap_servers=servers.kafka, group_id=None,
                                 auto_offset_reset="earliest")
    await published.start()
    mongo = make_mongo_client(servers.mongodb_uri, "tests")
    yield RequestsService(f"http://127.0.0.1:{port}", keys, relay, published, mongo[settings.database_name])
    await published.stop()
    await relay.producer.stop()
    await relay.admin.close()
    await running.stop()
    await mongo.drop_database(settings.database_name)
    await mongo.close()
