"""How the gateway's own refusals of a call look: RFC 9457 problem details (``application/problem+json``;
with the platform's ``error`` and ``message`` members beside them, which every service answers), or
the STAC error shape (``code``, ``description``) under ``/stac``; ``Retry-After`` when waiting helps."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway_service.domain.errors import LimitsUnavailable, RateLimited

PROBLEM = "application/problem+json"
TITLES = {429: "Too Many Requests", 503: "Service Unavailable"}


def refused(request: Request, status: int, error: str, message: str, retry_after: int | None = None,
            **extra: Any) -> JSONResponse:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    if request.url.path == "/stac" or request.url.path.startswith("/stac/"):
        return JSONResponse({"code": error, "description": message}, status_code=status, headers=headers)
    body = {"type": "about:blank", "title": TITLES.get(status, error), "status": status, "detail": message,
            "error": error, "message": message, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return refused(request, 429, "TooManyRequests", str(exc), exc.retry_after, limit=exc.limit)


async def limits_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LimitsUnavailable)
    return refused(request, 503, "ServiceUnavailable", str(exc), exc.retry_after)


HANDLERS = {RateLimited: rate_limited, LimitsUnavailable: limits_unavailable}
