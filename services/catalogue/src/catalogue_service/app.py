"""Composition root of the catalogue service. Its store is PostgreSQL + PostGIS (pgstac comes
with the catalogue issue), not MongoDB: search is its main workload."""

from __future__ import annotations

import psycopg
from dinamis_common.runtime import Runtime
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from catalogue_service.entrypoints import stac
from catalogue_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter, with_kafka=False, with_mongo=False)

    async def postgres_ready() -> None:
        async with await psycopg.AsyncConnection.connect(settings.postgres_dsn, connect_timeout=3) as conn:
            await conn.execute("select 1")

    runtime.extra_checks["postgres"] = postgres_ready
    return runtime.create_app(title="DINAMIS catalogue", routers=[stac.router])
