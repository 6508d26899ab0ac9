"""What every service's HTTP side shares: health, readiness, request ids, body limit, load
shedding, error table, tracing, and the caller's identity as a dependency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dinamis_common.auth import Forbidden, JwksVerifier, Principal, Unauthorized, bearer_token
from dinamis_common.errors import install_error_handlers
from dinamis_common.telemetry import Telemetry

ReadinessCheck = Callable[[], Awaitable[Any]]


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 before the handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await _too_large(self.max_bytes, send)


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse(
        {"error": "PayloadTooLarge", "message": f"request body larger than {limit} bytes"}, status_code=413
    )
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


PROBES = frozenset({"/healthz", "/readyz"})


class LoadSheddingMiddleware:
    """At most ``max_in_flight`` requests in progress; beyond that a request is answered 503 with
    ``Retry-After`` at once, so that a saturated service says so instead of letting connections
    queue until callers time out or drop them. Probes are never shed: a busy service is alive
    and ready."""

    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_seconds: int = 1,
                 on_shed: Callable[[], None] | None = None) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = str(retry_after_seconds)
        self.on_shed = on_shed
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            if self.on_shed is not None:
                self.on_shed()
            response = JSONResponse(
                {"error": "Overloaded",
                 "message": f"the service is at capacity ({self.max_in_flight} requests in progress); "
                            f"try again in {self.retry_after} s"},
                status_code=503, headers={"retry-after": self.retry_after})
            await response(scope, _no_receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id") or str(uuid.uuid4()).encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":  # exactly one, whatever the handler set
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, with_id)


def create_service_app(
    *,
    title: str,
    telemetry: Telemetry,
    lifespan: Any,
    readiness: Callable[[FastAPI], Mapping[str, ReadinessCheck]],
    error_table: Mapping[type[Exception], int] | None = None,
    max_body_bytes: int = 1_048_576,
    max_in_flight: int = 128,
    **fastapi_kwargs: Any,
) -> FastAPI:
    app = FastAPI(title=title, lifespan=lifespan, **fastapi_kwargs)
    table: dict[type[Exception], int] = {Unauthorized: 401, Forbidden: 403, **(error_table or {})}
    install_error_handlers(app, table)

    @app.get("/healthz", tags=["operations"], summary="Alive (anyone)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Ready: its database and Kafka answer (anyone)")
    async def readyz() -> JSONResponse:
        checks = readiness(app)
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), timeout=3.0) for check in checks.values()), return_exceptions=True
        )
        report = {
            name: ("ok" if not isinstance(r, BaseException) else f"failed: {type(r).__name__}: {r}")
            for name, r in zip(checks, results, strict=True)
        }
        ready = all(v == "ok" for v in report.values())
        return JSONResponse({"ready": ready, "checks": report}, status_code=200 if ready else 503)

    shed = telemetry.meter("dinamis.http").create_counter(
        "http.server.shed_requests", description="requests answered 503 because too many were in progress")
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(LoadSheddingMiddleware, max_in_flight=max_in_flight, on_shed=lambda: shed.add(1))
    app.add_middleware(RequestIdMiddleware)  # outermost: every answer has an id, a shed one too
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        excluded_urls="healthz,readyz",
    )
    return app


async def current_principal(request: Request) -> Principal:
    verifier: JwksVerifier = request.app.state.verifier
    return await verifier.verify(bearer_token(request.headers.get("authorization")))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"this call needs one of the roles: {', '.join(roles)}")
        return principal

    return check
