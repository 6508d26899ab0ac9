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


@dataclass
class Upstream:
    """A stand-in for every service behind a gateway: answers 200 to anything with what it was sent
    (method, path, the headers it got) and keeps the list."""

    url: str
    seen: list[dict[str, Any]]


@dataclass
class Gateways:
    """Gateway replicas served as ``python -m gateway_service`` serves one (``runtime.server_config``),
    sharing one rate-limit schema of the real PostgreSQL; ``upstream`` behind them."""

    urls: list[str]
    upstream: Upstream
    keys: Any  # development signing key and the JWKS the gateways trust
    schema: str

    def client(self, replica: int = 0, user: str | None = None, client_ip: str | None = None):
        import httpx
        from dinamis_testkit.devtokens import mint_token

        headers = {"authorization": f"Bearer {mint_token(*self.keys, user=user, entity=None)}"} if user else {}
        if client_ip:  # what a trusted proxy in front would say
            headers["x-forwarded-for"] = client_ip
        return httpx.AsyncClient(base_url=self.urls[replica], headers=headers, timeout=15)


@pytest.fixture
def gateways(servers, unique, tmp_path) -> Callable[..., AbstractAsyncContextManager[Gateways]]:
    """``async with gateways(replicas=2, **settings) as gw:`` gateway replicas on free ports in front of
    a recording upstream, counting in schema ``gw_<unique>`` (dropped after)."""
    import asyncio

    import psycopg
    import uvicorn
    from dinamis_common.runtime import server_config
    from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys
    from dinamis_testkit.inprocess import free_port
    from gateway_service.bootstrap import create_app
    from gateway_service.settings import Settings
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    @asynccontextmanager
    async def start(replicas: int = 2, **overrides: Any) -> AsyncIterator[Gateways]:
        keys, schema, seen = ensure_dev_keys(tmp_path / "keys"), f"gw_{unique}", []
        async def record(request):  # a Starlette endpoint: no annotations to resolve
            seen.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers)})
            return JSONResponse({"ok": True})

        upstream_app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST", "PUT"])])

        running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

        async def serve(config: uvicorn.Config) -> None:
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            running.append((server, task))
            while not server.started:
                if task.done():
                    raise RuntimeError("a server of the test did not start")
                await asyncio.sleep(0.05)

        up_port = free_port()
        await serve(uvicorn.Config(upstream_app, host="127.0.0.1", port=up_port, log_config=None))
        urls = []
        try:
            for _ in range(replicas):
                settings = Settings(**{
                    "http_port": free_port(), "postgres_dsn": servers.postgres_dsn, "rate_limit_schema": schema,
                    "auth_jwks_url": f"file://{keys[1]}", "auth_issuer": DEV_ISSUER,
                    **{f"{name}_url": f"http://127.0.0.1:{up_port}" for name in
                       ("accounts", "catalogue", "requests", "arbitration", "provisioning")}, **overrides})
                await serve(server_config(create_app(settings), settings))
                urls.append(f"http://127.0.0.1:{settings.http_port}")
            yield Gateways(urls, Upstream(f"http://127.0.0.1:{up_port}", seen), keys, schema)
        finally:
            for server, _ in running:
                server.should_exit = True
            await asyncio.gather(*(task for _, task in running), return_exceptions=True)
            with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return start
