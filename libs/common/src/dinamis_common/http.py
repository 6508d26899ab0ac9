"""What every service's HTTP side shares: health, readiness, request ids, body limit, load
shedding, strict input, error table, tracing, and the caller's identity as a dependency.

**Strict input** (:func:`strict_input`, a dependency of every route, checked after routing and before
the handler and its body's validation):
- a route that takes a JSON body refuses another declared ``Content-Type`` (``text/plain``, a form) with
  415, saying which to send (an absent one is read as JSON, as FastAPI does);
- its body is read again strictly: ``NaN`` / ``Infinity`` (which Python's JSON reader accepts and no JSON
  has), a number written with more than ``max_json_number_chars`` characters or too large for a float,
  nesting deeper than ``max_json_depth``, and a string or member name holding a NUL or a lone surrogate
  (neither storable in PostgreSQL-backed FerretDB nor encodable in UTF-8) are refused with 422 naming the
  place;
- path and query parameters holding a NUL are refused with 422.
The limits are the service's settings (:class:`InputLimits`). Routes that read their own body (the
catalogue's STAC search, a certificate upload) keep their own checks and error shape.
"""

from __future__ import annotations

import asyncio
import email.message
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dinamis_common.auth import Forbidden, JwksVerifier, Principal, Unauthorized, bearer_token
from dinamis_common.errors import PROBLEM_JSON, install_error_handlers, problem
from dinamis_common.telemetry import Telemetry

_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class InputLimits:
    """How strictly a JSON body is read (from the service's settings: ``max_json_depth``,
    ``max_json_number_chars``)."""

    max_json_depth: int = 32
    max_json_number_chars: int = 40


class _Refused(ValueError):
    def __init__(self, loc: tuple[str | int, ...], msg: str, kind: str) -> None:
        super().__init__(msg)
        self.loc, self.msg, self.kind = loc, msg, kind


def _unsafe(text: str) -> str | None:
    found = _UNSAFE_TEXT.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (not a Unicode character)"


def _read_strictly(body: bytes, limits: InputLimits) -> None:
    """Raises :class:`_Refused` where ``body`` (JSON) is not what a service can keep (see the module's notes)."""
    longest = limits.max_json_number_chars

    def constant(name: str) -> Any:
        raise _Refused(("body",), f"{name} is not a JSON number: give a finite number", "number_not_finite")

    def number(text: str, kind: Callable[[str], Any]) -> Any:
        if len(text) > longest:
            raise _Refused(("body",), f"a number written with {len(text)} characters ({text[:12]}…); at most "
                           f"{longest} are accepted", "number_too_long")
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise _Refused(("body",), f"{text} is too large for a number: give a finite number", "number_not_finite")
        return value

    try:
        document = json.loads(body, parse_constant=constant, parse_int=lambda t: number(t, int),
                              parse_float=lambda t: number(t, float))
    except _Refused:
        raise
    except (ValueError, RecursionError):
        return  # not JSON at all: the route's own reading says so (422 json_invalid)
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ("body",))]
    while stack:
        value, loc = stack.pop()
        if len(loc) > limits.max_json_depth:
            raise _Refused(loc[:8], f"nested deeper than {limits.max_json_depth} levels", "too_deep")
        if isinstance(value, str):
            if what := _unsafe(value):
                raise _Refused(loc, f"the text holds {what}: remove it", "string_unsafe")
        elif isinstance(value, dict):
            for key, item in value.items():
                if what := _unsafe(key):
                    raise _Refused((*loc, ascii(key)), f"a member name holds {what}: remove it", "string_unsafe")
                stack.append((item, (*loc, key)))
        elif isinstance(value, list):
            stack.extend((item, (*loc, i)) for i, item in enumerate(value))


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def strict_input(limits: InputLimits) -> Callable[[Request], Awaitable[None]]:
    """The dependency every route of a service gets (see the module's notes)."""

    async def check(request: Request) -> None:
        for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
            for name, value in items:
                if isinstance(value, str) and (what := _unsafe(value) or _unsafe(name)):
                    raise RequestValidationError([{"loc": (where, ascii(name)), "msg": f"holds {what}: remove it",
                                                   "type": "string_unsafe"}])
        body_field = getattr(request.scope.get("route"), "body_field", None)
        if body_field is None or isinstance(body_field.field_info, params.Form):
            return
        body = await request.body()
        if not body:
            return
        content_type = request.headers.get("content-type")
        if content_type and not _is_json(content_type):
            raise HTTPException(415, f"this operation takes a JSON body: send it with Content-Type: application/json, "
                                     f"not {content_type[:60]!a}")
        try:
            _read_strictly(body, limits)
        except _Refused as refused:
            raise RequestValidationError([{"loc": refused.loc, "msg": refused.msg, "type": refused.kind}]) from None

    return check


def _declare_problems(app: FastAPI) -> None:
    """The OpenAPI document says what the service answers: validation errors (422) as RFC 9457 problems,
    and 415 on every operation that takes a body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        answer = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if "422" in responses:
                    responses["422"] = {"description": "The request is not valid: what and where", **answer}
                if "requestBody" in operation:
                    responses["415"] = {"description": "The body is not JSON (Content-Type)", **answer}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "description": "An RFC 9457 problem",
    "required": ["type", "title", "status", "detail", "error", "message"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "error": {"type": "string"}, "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"}, "type": {"type": "string"}}}},
    },
}

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
    response = problem(413, "PayloadTooLarge", f"request body larger than {limit} bytes")
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
            response = problem(503, "Overloaded", f"the service is at capacity ({self.max_in_flight} requests in "
                               f"progress); try again in {self.retry_after} s",
                               headers={"retry-after": self.retry_after})
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
    input_limits: InputLimits | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    dependencies = [Depends(strict_input(input_limits or InputLimits())), *fastapi_kwargs.pop("dependencies", [])]
    app = FastAPI(title=title, lifespan=lifespan, dependencies=dependencies, **fastapi_kwargs)
    table: dict[type[Exception], int] = {Unauthorized: 401, Forbidden: 403, **(error_table or {})}
    install_error_handlers(app, table)
    _declare_problems(app)

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
