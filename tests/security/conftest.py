"""Fixtures of the security tests (issue 11): services served on the real servers of the test
profile (Kafka, FerretDB, PostgreSQL, Keycloak, an SMTP sink), one sandbox per use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest


@dataclass
class ServedAccounts:
    """The accounts service served in the test's loop, with the mailbox of its own SMTP sink."""

    served: Any  # dinamis_testkit.service.ServedService
    mailbox: Any  # dinamis_testkit.mail.Mailbox

    def client(self, user: str | None = None, **claims: Any):
        return self.served.client(user, timeout=30, **claims)


@pytest.fixture
def accounts_service(servers, tmp_path_factory) -> Callable[..., AbstractAsyncContextManager[ServedAccounts]]:
    """``async with accounts_service(identity=…, **settings) as accounts:`` the accounts service on the
    real Kafka and FerretDB with e-mail to an SMTP sink of its own (``identity``: the Keycloak
    adapter by default, on the test profile's real Keycloak)."""
    from accounts_service.bootstrap import create_app
    from accounts_service.settings import Settings
    from dinamis_cli.stack import load_profile
    from dinamis_cli.stack.keycloak_admin import REALM, SVC_ACCOUNTS, client_secret
    from dinamis_cli.stack.mail import listen
    from dinamis_cli.stack.pki import ensure_signing_pki
    from dinamis_contracts import accounts
    from dinamis_testkit.inprocess import free_port
    from dinamis_testkit.mail import Mailbox
    from dinamis_testkit.service import serve_service

    @asynccontextmanager
    async def serve(identity: Any = None, **overrides: Any) -> AsyncIterator[ServedAccounts]:
        profile = load_profile("test")
        pki = ensure_signing_pki(tmp_path_factory.mktemp("pki"))
        smtp_port, mail_dir = free_port(), tmp_path_factory.mktemp("mail")
        sink = await listen(smtp_port, mail_dir)
        keycloak = {"keycloak_url": profile.keycloak_url, "keycloak_realm": REALM,
                    "keycloak_client_id": SVC_ACCOUNTS, "keycloak_client_secret": client_secret(profile, SVC_ACCOUNTS)}
        try:
            async with serve_service(servers, tmp_path_factory.mktemp("keys"), "accounts",
                                     partial(create_app, identity=identity), Settings,
                                     publishes=[accounts.ENTITY_TOPIC, accounts.USER_TOPIC], smtp_port=smtp_port,
                                     certificate_key_file=pki.key, certificate_cert_file=pki.cert,
                                     certificate_trust_files=[pki.root], **{**keycloak, **overrides}) as served:
                yield ServedAccounts(served, Mailbox.in_directory(mail_dir, timeout=20.0))
        finally:
            sink.close()

    return serve
