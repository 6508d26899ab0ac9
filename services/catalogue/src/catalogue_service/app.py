"""Composition root of the catalogue service. Its store is PostgreSQL + PostGIS (the STAC index,
pgstac, comes with the catalogue issue), not MongoDB: search is its main workload."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_contracts import provisioning
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from psycopg_pool import AsyncConnectionPool

from catalogue_service.adapters.acquisitions import Acquisitions
from catalogue_service.entrypoints import api, consumers, stac
from catalogue_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter, with_mongo=False)
    pool = AsyncConnectionPool(settings.postgres_dsn, min_size=1, max_size=10, open=False,
                               kwargs={"autocommit": True, "connect_timeout": 5})
    acquisitions = Acquisitions(pool)
    runtime.subscribe(provisioning.TOPIC, consumers.GROUP, consumers.provisioning_handler(acquisitions))

    async def open_pool() -> None:
        await pool.open(wait=True, timeout=15)
        await acquisitions.migrate()

    async def postgres_ready() -> None:
        async with pool.connection(timeout=3) as conn:
            await conn.execute("select 1")

    # the pool must be open before the consumer starts: run it first
    runtime.before_start.append(open_pool)
    runtime.on_stop.append(pool.close)
    runtime.extra_checks["postgres"] = postgres_ready
    return runtime.create_app(title="DINAMIS catalogue", routers=[stac.router, api.router],
                              acquisitions=acquisitions)
