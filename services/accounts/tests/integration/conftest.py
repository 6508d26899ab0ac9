"""The accounts service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), e-mails delivered over SMTP to the stack's sink served in this event loop,
certificates signed with a development PKI, and a reader of the events it publishes. Keycloak
is recorded here (its adapter is tested against the real Keycloak in tests/flow)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from accounts_service.app import create_app
from accounts_service.settings import Settings
from aiokafka import AIOKafkaConsumer
from dinamis_cli.stack.mail import listen
from dinamis_cli.stack.pki import ensure_signing_pki
from dinamis_contracts import accounts
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys, mint_token
from dinamis_testkit.inprocess import InProcessServers, free_port
from dinamis_testkit.mail import Mailbox


@dataclass
class RecordedIdentity:
    pushed: list = field(default_factory=list)

    async def push(self, user, entity_kind):
        self.pushed.append((user.id, user.status, tuple(user.roles), entity_kind))
        return user.keycloak_id or f"kc-{user.id}", True

    async def lookup(self, keycloak_id):
        return None


@dataclass
class AccountsService:
    url: str
    keys: tuple[Path, Path]
    mailbox: Mailbox
    events: AIOKafkaConsumer
    identity: RecordedIdentity

    def client(self, user: str | None = None, entity: str | None = None, roles=("user",)) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {mint_token(*self.keys, user=user, entity=entity, roles=roles)}"} \
            if user else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def wire(self, count: int, timeout: float = 20.0) -> list:
        """The next ``count`` records the service published on its entity and user topics."""
        got = []
        async with asyncio.timeout(timeout):
            while len(got) < count:
                got.append(await self.events.getone())
        return got


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    keys = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    pki = ensure_signing_pki(tmp_path_factory.mktemp("pki"))
    smtp_port, mail_dir = free_port(), tmp_path_factory.mktemp("mail")
    sink = await listen(smtp_port, mail_dir)
    mailbox = Mailbox.in_directory(mail_dir, timeout=15.0)
    port, ns = free_port(), f"t{unique}."
    settings = Settings(kafka_bootstrap_servers=servers.kafka, mongodb_uri=servers.mongodb_uri,
                        mongodb_database=f"t{unique}_accounts", kafka_namespace=ns, auth_issuer=DEV_ISSUER,
                        auth_jwks_url=f"file://{keys[1]}", http_port=port, outbox_poll_seconds=0.5,
                        smtp_port=smtp_port, certificate_key_file=pki.key, certificate_cert_file=pki.cert,
                        certificate_trust_files=[pki.root])
    identity = RecordedIdentity()
    running = InProcessServers()
    await running.start(create_app(settings, identity=identity), port, "accounts")
    events = AIOKafkaConsumer(ns + accounts.ENTITY_TOPIC, ns + accounts.USER_TOPIC, bootstrap_servers=servers.kafka,
                              group_id=None, auto_offset_reset="earliest")
    await events.start()
    yield AccountsService(f"http://127.0.0.1:{port}", keys, mailbox, events, identity)
    await events.stop()
    await running.stop()
    sink.close()
