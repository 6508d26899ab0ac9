"""The services reached over one httpx connection pool, each failure sorted by whether the
service may have seen the call.

Idle pooled connections are dropped after ``keepalive_seconds``, which must stay shorter than
the services' own keep-alive (``HTTP_KEEP_ALIVE_SECONDS``): otherwise a service closes a
connection just as the gateway sends a call on it."""

from __future__ import annotations

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.trace import TracerProvider

from gateway_service.service_layer.ports import Answer, Call, Dropped, NoAnswerInTime, NotSent


class HttpxUpstream:
    def __init__(self, *, timeout_seconds: float, keepalive_seconds: float, max_connections: int,
                 tracer_provider: TracerProvider | None = None) -> None:
        self.timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0))
        self.limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                                   keepalive_expiry=keepalive_seconds)
        self.tracer_provider = tracer_provider
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, limits=self.limits)
        HTTPXClientInstrumentor.instrument_client(self._client, tracer_provider=self.tracer_provider)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, base_url: str, call: Call) -> Answer:
        assert self._client is not None, "HttpxUpstream.open() first"
        url = httpx.URL(base_url + call.path, query=call.query) if call.query else httpx.URL(base_url + call.path)
        request = self._client.build_request(call.method, url, headers=call.headers, content=call.body)
        try:
            response = await self._client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NotSent(str(exc) or type(exc).__name__) from exc
        except httpx.TimeoutException as exc:  # read, write, or (with fewer connections than calls) pool
            raise NoAnswerInTime(str(exc)) from exc
        except httpx.TransportError as exc:  # RemoteProtocolError, ReadError, WriteError...: closed or reset
            raise Dropped(f"{type(exc).__name__}: {exc}") from exc
        return Answer(response.status_code, list(response.headers.multi_items()), response.aiter_raw(),
                      response.aclose)
