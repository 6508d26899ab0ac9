"""Composition root of the gateway: the single entry for web, mobile and partner clients."""

from __future__ import annotations

import httpx
from dinamis_common.runtime import Runtime
from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace.export import SpanExporter

from gateway_service import proxy
from gateway_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter, with_kafka=False, with_mongo=False)
    upstreams = settings.upstreams()
    app = runtime.create_app(title="DINAMIS gateway", routers=[proxy.router], upstreams=upstreams)

    async def open_client() -> None:
        app.state.http = httpx.AsyncClient(timeout=settings.upstream_timeout_seconds,
                                           limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        HTTPXClientInstrumentor.instrument_client(app.state.http, tracer_provider=runtime.telemetry.tracer_provider)

    async def close_client() -> None:
        await app.state.http.aclose()

    async def signing_keys() -> None:
        await runtime.verifier.refresh()

    runtime.on_start.append(open_client)
    runtime.on_stop.append(close_client)
    runtime.extra_checks["signing_keys"] = signing_keys
    return app
