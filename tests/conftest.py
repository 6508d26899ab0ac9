"""Cross-service fixtures: the whole system in this test process (for the trace test, with an
in-memory span exporter) on the real Kafka, FerretDB and PostgreSQL, e-mail to an SMTP sink in
this event loop, and an entity approved through the accounts service before the test starts."""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dinamis_cli.stack import load_profile
from dinamis_cli.stack.mail import listen
from dinamis_cli.stack.membership import Organisation, subscribe_and_approve, wait_until_eligible
from dinamis_cli.stack.pki import ensure_signing_pki
from dinamis_cli.stack.profile import DEV_AUTO_RULES, DEV_RATE_LIMITS
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys, mint_token
from dinamis_testkit.inprocess import InProcessServers, free_port
from dinamis_testkit.mail import Mailbox
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")


@dataclass
class InProcessStack:
    gateway: str
    keys: tuple[Path, Path]
    spans: InMemorySpanExporter
    mail: Mailbox  # the SMTP sink served in this event loop
    entity: str = ""

    def token(self, user: str, entity: str | None = None, roles=("user",), category: str = "institutional") -> str:
        return mint_token(*self.keys, user=user, entity=entity or self.entity, roles=roles, category=category)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.gateway, headers=headers, timeout=15.0)


@pytest.fixture
async def inprocess_stack(servers, unique, tmp_path):
    exporter = InMemorySpanExporter()
    keys = ensure_dev_keys(tmp_path / "keys")
    pki = ensure_signing_pki(tmp_path / "pki")
    smtp_port = free_port()
    sink = await listen(smtp_port, tmp_path / "mail")
    ports = {name: free_port() for name in SERVICES}
    keycloak = {k.lower(): v for k, v in load_profile("test").service_env("accounts").items()
                if k.startswith("KEYCLOAK_")}  # the test stack's Keycloak, for the accounts service's sync
    shared = {
        "kafka_bootstrap_servers": servers.kafka, "mongodb_uri": servers.mongodb_uri,
        "postgres_dsn": servers.postgres_dsn, "auth_jwks_url": f"file://{keys[1]}", "auth_issuer": DEV_ISSUER,
        "kafka_namespace": f"t{unique}.", "outbox_poll_seconds": 0.5,
        "kafka_security_protocol": servers.kafka_auth.security_protocol,
        "kafka_sasl_mechanism": servers.kafka_auth.sasl_mechanism, "kafka_username": servers.kafka_auth.username,
        "kafka_password": servers.kafka_auth.password,  # the Kafka administrator: namespaced topics
        **{f"{n}_url": f"http://127.0.0.1:{p}" for n, p in ports.items()},
        "public_url": f"http://127.0.0.1:{ports['gateway']}",  # links name this stack's own gateway
    }
    # the test profile's automatic rule (an archive request within the free quota accepted with no person)
    arbitration = {"arbitration_auto_rules": DEV_AUTO_RULES}
    # the gateway's counters are shared in the stack's PostgreSQL with every other test calling from
    # 127.0.0.1: the profile's limits, as its own gateway (tests/security test the limits themselves)
    gateway = {k.lower(): v for k, v in DEV_RATE_LIMITS.items()}
    accounts = {"smtp_port": smtp_port, "certificate_key_file": pki.key, "certificate_cert_file": pki.cert,
                "certificate_trust_files": [pki.root], "forwarded_allow_ips": "127.0.0.1", **keycloak}
    servers_ = InProcessServers()
    for name in SERVICES:
        app_module = importlib.import_module(f"{name}_service.app")
        settings_module = importlib.import_module(f"{name}_service.settings")
        settings = settings_module.Settings(**shared, http_port=ports[name], mongodb_database=f"t{unique}_{name}",
                                            **(accounts if name == "accounts" else {}),
                                            **(arbitration if name == "arbitration" else {}),
                                            **(gateway if name == "gateway" else {}))
        await servers_.start(app_module.create_app(settings, span_exporter=exporter), ports[name], name)
    mailbox = Mailbox.in_directory(tmp_path / "mail")
    stack = InProcessStack(f"http://127.0.0.1:{ports['gateway']}", keys, exporter, mailbox)
    async with stack.client() as api:
        stack.entity = await subscribe_and_approve(api, stack.token("admin", roles=("admin",)), stack.mail,
                                                   Organisation.sample())
        await wait_until_eligible(api, stack.token("member"))
    exporter.clear()
    yield stack
    await servers_.stop()
    sink.close()


async def wait_until(probe, timeout: float = 30.0, interval: float = 0.1):
    """Polls ``probe()`` until it returns something truthy; returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {timeout}s")
        await asyncio.sleep(interval)


@pytest.fixture
def eventually():
    return wait_until
