"""One table from error types to HTTP status codes, installed once per service.

``libs/common`` knows no domain: each service passes its own table
(``{QuotaExceeded: 409, NotFound: 404, ...}``). Every error answers JSON
``{"error": <type>, "message": <text a person can act on>}``. Whatever no table maps is
classified: a dependency outage answers 503 with ``Retry-After`` (never 500 or 400), an event too
large to publish 413, one that is not JSON 422, anything else 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

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


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI, table: Mapping[type[Exception], int]) -> None:
    async def mapped(_: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in table.items() if isinstance(exc, kind))
        return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, status_code=status)

    for kind in table:
        app.add_exception_handler(kind, mapped)

    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "ValidationError", "message": _validation_message(exc), "details": exc.errors()},
            status_code=422,
        )

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "HTTPError", "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, EventTooLarge):
            return JSONResponse({"error": "PayloadTooLarge", "message": str(exc)}, status_code=413)
        if isinstance(exc, EventNotSerialisable):
            return JSONResponse({"error": "ValidationError", "message": str(exc)}, status_code=422)
        if failures.classify(exc) is failures.Failure.TRANSIENT:
            # a dependency (database, broker, identity provider) is away: nothing was stored, come back
            log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
            return JSONResponse({"error": "ServiceUnavailable",
                                 "message": "a service this one depends on is unavailable; nothing was changed, "
                                            "try again shortly"},
                                status_code=503, headers={"retry-after": str(UNAVAILABLE_RETRY_AFTER_SECONDS)})
        log.exception("unhandled error")
        return JSONResponse({"error": "InternalError", "message": "internal error"}, status_code=500)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # the families a dependency outage comes from are handled like mapped errors (Starlette then
    # answers without re-raising them to the server, which would log each as a crash)
    for family in (PyMongoError, KafkaError, httpx.HTTPError, OSError, TimeoutError, EventTooLarge,
                   EventNotSerialisable):
        app.add_exception_handler(family, unexpected)
    app.add_exception_handler(Exception, unexpected)
