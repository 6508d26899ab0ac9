"""The accounts service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), e-mails delivered over SMTP to the stack's sink served in this event loop,
certificates signed with a development PKI, and a reader of the events it publishes. Keycloak
is recorded here (its adapter is tested against the real Keycloak in tests/flow)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial

import httpx
import pytest
from accounts_service.bootstrap import create_app
from accounts_service.settings import Settings
from dinamis_cli.stack.mail import listen
from dinamis_cli.stack.pki import ensure_signing_pki
from dinamis_contracts import accounts
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.mail import Mailbox
from dinamis_testkit.service import ServedService, serve_service


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
    served: ServedService  # its entity and user events in ``served.published``
    mailbox: Mailbox
    identity: RecordedIdentity

    def client(self, user: str | None = None, entity: str | None = None, roles=("user",)) -> httpx.AsyncClient:
        return self.served.client(user, timeout=30, entity=entity, roles=roles)

    async def wire(self, count: int, timeout: float = 20.0) -> list:
        """The next ``count`` records the service published on its entity and user topics."""
        got = []
        async with asyncio.timeout(timeout):
            while len(got) < count:
                got.append(await self.served.published.getone())
        return got


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    pki = ensure_signing_pki(tmp_path_factory.mktemp("pki"))
    smtp_port, mail_dir = free_port(), tmp_path_factory.mktemp("mail")
    sink = await listen(smtp_port, mail_dir)
    identity = RecordedIdentity()
    try:
        async with serve_service(servers, tmp_path_factory.mktemp("keys"), "accounts",
                                 partial(create_app, identity=identity), Settings,
                                 publishes=[accounts.ENTITY_TOPIC, accounts.USER_TOPIC], smtp_port=smtp_port,
                                 certificate_key_file=pki.key, certificate_cert_file=pki.cert,
                                 certificate_trust_files=[pki.root],
                                 forwarded_allow_ips="127.0.0.1") as served:  # the tests play the gateway
            yield AccountsService(served, Mailbox.in_directory(mail_dir, timeout=15.0), identity)
    finally:
        sink.close()
