"""One JSON line per request (through the process's JSON logging): request id, method, the
matched route (prefix), the upstream service and the path, status, duration, the user whose token was
verified, and how many times the call was sent to the service. Probes are logged at DEBUG only."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from dinamis_common.http import PROBES
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_service.domain.routing import Route

log = logging.getLogger("gateway_service.access")


@dataclass
class AccessRecord:
    """Filled in by the routes while the request goes through."""

    route: Route | None = None
    user: str | None = None  # the token's ``sub``, once verified
    attempts: int = 0  # sends to the service


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = AccessRecord()
        state = scope.setdefault("state", {})
        state["access"] = record
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            path = scope["path"]
            route = record.route
            log.log(logging.DEBUG if path in PROBES else logging.INFO, "%s %s %s", scope["method"], path, status,
                    extra={"fields": {
                        "request_id": state.get("request_id"), "method": scope["method"], "path": path,
                        "route": route.prefix if route else None, "upstream": route.service if route else None,
                        "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user": record.user, "attempts": record.attempts,
                    }})
