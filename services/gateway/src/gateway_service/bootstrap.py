"""Composition root of the gateway, the single entry for web, mobile and partner clients:
settings → the upstream pool and the rate-limit counters → the forwarding context → the app.
``create_app`` is the public factory (``python -m gateway_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from dinamis_common.background import Periodic
from dinamis_common.runtime import Runtime
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from gateway_service.adapters.counters import PostgresCounters
from gateway_service.adapters.upstream import HttpxUpstream
from gateway_service.domain.errors import BodyTooLarge, NotFound
from gateway_service.domain.retry import RetryPolicy
from gateway_service.entrypoints.access_log import AccessLogMiddleware
from gateway_service.entrypoints.api import proxy, refusals
from gateway_service.service_layer.context import Gateway
from gateway_service.service_layer.rate_limiting import RateLimiter
from gateway_service.settings import Settings

ERRORS = {NotFound: 404, BodyTooLarge: 413}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    upstream: HttpxUpstream
    gateway: Gateway
    counters: PostgresCounters | None


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, with_kafka=False, with_mongo=False)
    upstream = HttpxUpstream(timeout_seconds=settings.upstream_timeout_seconds,
                             keepalive_seconds=settings.upstream_keepalive_seconds,
                             max_connections=settings.upstream_max_connections,
                             tracer_provider=runtime.telemetry.tracer_provider)
    counters, limiter = None, None
    if settings.rate_limits_enabled:
        counters = PostgresCounters(settings.postgres_dsn, settings.rate_limit_schema,
                                    settings.rate_limit_store_timeout_seconds)
        meter = runtime.telemetry.meter("dinamis.gateway")
        refused = meter.create_counter("gateway.rate_limit.refused", description="calls answered 429, by limit")
        failures = meter.create_counter("gateway.rate_limit.store_failures",
                                        description="calls whose counters could not be read (refused: sensitive route)")
        limiter = RateLimiter(counters, settings.limits(), settings.rate_limit_mail_body_bytes,
                              on_refused=lambda limit: refused.add(1, {"limit": limit}),
                              on_store_failure=lambda closed: failures.add(1, {"refused": closed}))
        sweep = Periodic(counters.sweep, settings.rate_limit_sweep_seconds, "gateway.sweep-rate-limits")
        runtime.on_start += [counters.open, sweep.start]
        runtime.on_stop += [sweep.stop, counters.close]
        # not a readiness check: counters away must not take every replica out of service
    public = urlsplit(settings.public_url)
    gateway = Gateway(upstream, settings.upstreams(),
                      RetryPolicy(settings.upstream_attempts, settings.upstream_retry_backoff_seconds),
                      limiter=limiter, public_scheme=public.scheme, public_host=public.netloc)
    runtime.on_start.append(upstream.open)
    runtime.on_stop.append(upstream.close)
    runtime.extra_checks["signing_keys"] = runtime.verifier.refresh
    return Container(settings, runtime, upstream, gateway, counters)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    app = c.runtime.create_app(title="DINAMIS gateway", routers=[proxy.router], error_table=ERRORS, gateway=c.gateway)
    for kind, handler in refusals.HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.add_middleware(AccessLogMiddleware)  # outermost: shed and refused calls are logged too
    return app
