"""Composition root of the gateway, the single entry for web, mobile and partner clients:
settings → the upstream pool → the forwarding context → the app. ``create_app`` is the public
factory (``python -m gateway_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass

from dinamis_common.runtime import Runtime
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from gateway_service.adapters.upstream import HttpxUpstream
from gateway_service.domain.errors import NotFound
from gateway_service.domain.retry import RetryPolicy
from gateway_service.entrypoints.access_log import AccessLogMiddleware
from gateway_service.entrypoints.api import proxy
from gateway_service.service_layer.context import Gateway
from gateway_service.settings import Settings

ERRORS = {NotFound: 404}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    upstream: HttpxUpstream
    gateway: Gateway


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, with_kafka=False, with_mongo=False)
    upstream = HttpxUpstream(timeout_seconds=settings.upstream_timeout_seconds,
                             keepalive_seconds=settings.upstream_keepalive_seconds,
                             max_connections=settings.upstream_max_connections,
                             tracer_provider=runtime.telemetry.tracer_provider)
    gateway = Gateway(upstream, settings.upstreams(),
                      RetryPolicy(settings.upstream_attempts, settings.upstream_retry_backoff_seconds))
    runtime.on_start.append(upstream.open)
    runtime.on_stop.append(upstream.close)
    runtime.extra_checks["signing_keys"] = runtime.verifier.refresh
    return Container(settings, runtime, upstream, gateway)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    app = c.runtime.create_app(title="DINAMIS gateway", routers=[proxy.router], error_table=ERRORS, gateway=c.gateway)
    app.add_middleware(AccessLogMiddleware)  # outermost: shed and refused calls are logged too
    return app
