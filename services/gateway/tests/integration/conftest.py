"""A gateway on a loopback port in front of real HTTP servers: a scripted one that closes or
resets chosen connections before answering (what an upstream closing a kept-alive connection does
to a call), a service app built like every DINAMIS service, and a port where nothing listens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dinamis_common.http import create_service_app
from dinamis_common.telemetry import setup_telemetry
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys, mint_token
from dinamis_testkit.inprocess import InProcessServers, free_port
from fastapi import Request


@dataclass
class ScriptedUpstream:
    """HTTP/1.1 on 127.0.0.1: reads each call whole, then drops the connection without a byte of
    answer while ``drops`` lists what to do ("close" or "reset"), else answers 200 with what it
    received and its own ``date``, ``server`` and ``x-request-id``."""

    drops: list[str] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def script(self, *drops: str) -> None:
        self.drops, self.seen = list(drops), []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target, _ = head[0].split(" ")
                headers = [tuple(part.strip() for part in line.split(":", 1)) for line in head[1:] if line]
                lower = {k.lower(): v for k, v in headers}
                body = await reader.readexactly(int(lower.get("content-length", "0")))
                self.seen.append({"method": method, "target": target, "headers": headers, "body": body})
                if self.drops:
                    if self.drops.pop(0) == "reset":
                        writer.transport.abort()
                    return
                payload = json.dumps({"method": method, "target": target, "request_id": lower.get("x-request-id"),
                                      "body": body.decode()}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"date: Thu, 01 Jan 2015 00:00:00 GMT\r\nserver: scripted\r\n"
                             b"x-request-id: the-upstream-s-own\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n"
                             b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@dataclass
class Stack:
    gateway: str
    scripted: ScriptedUpstream
    keys: tuple[Path, Path]
    gate: Gate

    def token(self, user: str = "alice") -> str:
        return mint_token(*self.keys, user=user, entity=None)

    def client(self, user: str | None = "alice", base: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.AsyncClient(base_url=base or self.gateway, headers=headers, timeout=10)


class Gate:
    """Holds ``/api/accounts/slow`` calls until released; says when ``n`` of them are held."""

    def __init__(self) -> None:
        self.held, self.release, self._more = 0, asyncio.Event(), asyncio.Event()

    async def hold(self) -> None:
        self.held += 1
        self._more.set()
        await self.release.wait()

    async def until_held(self, n: int) -> None:
        while self.held < n:
            self._more.clear()
            await asyncio.wait_for(self._more.wait(), 5)


def service_app(gate: Gate):
    """A service built like every DINAMIS service (probes, request ids, load shedding)."""

    @asynccontextmanager
    async def lifespan(_):
        yield

    app = create_service_app(title="accounts", telemetry=setup_telemetry("accounts"), lifespan=lifespan,
                             readiness=lambda _: {})

    @app.get("/api/accounts/echo")
    async def echo(request: Request) -> dict:
        return {"request_id": request.headers.get("x-request-id")}

    @app.get("/api/accounts/public/hello")
    async def hello() -> dict:
        return {"hello": "anyone"}

    @app.get("/api/accounts/slow")
    async def slow() -> dict:
        await gate.hold()
        return {"slow": True}

    return app


def gateway_settings(stack_ports: dict[str, int], keys: tuple[Path, Path], port: int, **extra: Any):
    from gateway_service.settings import Settings

    # forwarding only: the rate limits (and their PostgreSQL counters) are tested in tests/security
    return Settings(http_port=port, auth_jwks_url=f"file://{keys[1]}", auth_issuer=DEV_ISSUER,
                    **{"rate_limits_enabled": False, **{f"{name}_url": f"http://127.0.0.1:{p}"
                                                        for name, p in stack_ports.items()}, **extra})


@pytest.fixture(scope="session")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    from gateway_service.bootstrap import create_app

    keys = ensure_dev_keys(tmp_path_factory.mktemp("gateway-keys"))
    scripted, gate, running = ScriptedUpstream(), Gate(), InProcessServers()
    await scripted.start()
    ports = {"requests": scripted.port, "catalogue": scripted.port, "accounts": free_port(),
             "arbitration": free_port(),  # nothing listens there
             "provisioning": free_port()}
    await running.start(service_app(gate), ports["accounts"], "accounts")
    gport = free_port()
    settings = gateway_settings(ports, keys, gport, upstream_retry_backoff_seconds=0.01, max_body_bytes=1000)
    await running.start(create_app(settings), gport, "gateway")
    yield Stack(f"http://127.0.0.1:{gport}", scripted, keys, gate)
    gate.release.set()
    await running.stop()
    await scripted.stop()
