"""One table from error types to HTTP status codes, installed once per service.

``libs/common`` knows no domain: each service passes its own table
(``{QuotaExceeded: 409, NotFound: 404, ...}``). Every error answers an RFC 9457 problem
(``application/problem+json``): ``type`` (``about:blank``), ``title`` (the status's phrase), ``status``,
``detail`` (text a person can act on), and, as before, ``error`` (the error's type) and ``message``
(the same text as ``detail``); a validation error adds ``errors``: where and what, never the caller's
input (``loc``, ``msg``, ``type``). Whatever no table maps is classified: a dependency outage answers 503
with ``Retry-After`` (never 500 or 400), an event too large to publish 413, one that is not JSON 422,
anything else 500 with no internal text. Problems are written in ASCII (``\\uXXXX`` escapes), so no
text a caller sent (a lone surrogate, a NUL) can make the answer itself fail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import httpx
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dinamis_common.messaging import failures
from dinamis_common.messaging.outbox import EventNotSerialisable, EventTooLarge

log = logging.getLogger(__name__)
UNAVAILABLE_RETRY_AFTER_SECONDS = 2


PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JSONResponse):
    """An RFC 9457 problem, rendered in ASCII and refusing NaN (whatever it holds, it renders)."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def problem(status: int, error: str, message: str, headers: Mapping[str, str] | None = None,
            **extra: Any) -> ProblemResponse:
    """The answer for every error: ``status``, ``error`` (a type name) and ``message`` (what to do)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": message, "error": error,
            "message": message, **extra}
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _where(err: Mapping[str, Any]) -> list[str | int]:
    return [p if isinstance(p, int) and not isinstance(p, bool) else str(p) for p in err.get("loc", ())]


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, never the input nor the context (bytes, NaN, exceptions: not JSON, and the
    caller's own text reflected)."""
    return [{"loc": _where(err), "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
            for err in exc.errors()]


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"] if p != "body")
        parts.append(f"{loc or 'body'}: {err['msg']}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI, table: Mapping[type[Exception], int]) -> None:
    async def mapped(_: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in table.items() if isinstance(exc, kind))
        return problem(status, type(exc).__name__, str(exc))

    for kind in table:
        app.add_exception_handler(kind, mapped)

    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        return problem(422, "ValidationError", _validation_message(errors), errors=errors)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTPError", str(exc.detail), headers=exc.headers)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, EventTooLarge):
            return problem(413, "PayloadTooLarge", str(exc))
        if isinstance(exc, EventNotSerialisable):
            return problem(422, "ValidationError", str(exc))
        if failures.classify(exc) is failures.Failure.TRANSIENT:
            # a dependency (database, broker, identity provider) is away: nothing was stored, come back
            log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
            return problem(503, "ServiceUnavailable", "a service this one depends on is unavailable; nothing was "
                           "changed, try again shortly", headers={"retry-after": str(UNAVAILABLE_RETRY_AFTER_SECONDS)})
        log.exception("unhandled error")
        return problem(500, "InternalError", "internal error")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # the families a dependency outage comes from are handled like mapped errors (Starlette then
    # answers without re-raising them to the server, which would log each as a crash)
    for family in (PyMongoError, KafkaError, httpx.HTTPError, OSError, TimeoutError, EventTooLarge,
                   EventNotSerialisable):
        app.add_exception_handler(family, unexpected)
    app.add_exception_handler(Exception, unexpected)
