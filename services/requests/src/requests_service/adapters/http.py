"""Another service of the platform over HTTP: one client per service, closed with this one. A call
that gets no answer (refused connection, time-out) or an answer that says the service cannot serve
now (5xx, 429) raises :class:`UpstreamUnavailable`, which the runtime answers 503 with Retry-After."""

from __future__ import annotations

from typing import Any

import httpx

from requests_service.domain.errors import UpstreamUnavailable


class HttpService:
    name = "the service"

    def __init__(self, base_url: str, timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = await self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{self.name} ({self.base_url}) did not answer: {type(exc).__name__}") from exc
        if r.status_code >= 500 or r.status_code == 429:
            raise UpstreamUnavailable(f"{self.name} ({self.base_url}) answered {r.status_code}")
        return r
