"""Composition root of the catalogue service: settings → clients → stores → handlers. Its store is
PostgreSQL + PostGIS: the STAC index is pgstac (search is its main workload), acquisitions in
progress a table of its own. ``create_app`` is the public factory (``python -m catalogue_service``
serves it); ``entrypoints.cli`` is the one other way in (ingest)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dinamis_common.runtime import Runtime
from dinamis_contracts import provisioning, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from psycopg_pool import AsyncConnectionPool

from catalogue_service.adapters.acquisitions import PostgresAcquisitions
from catalogue_service.adapters.pgstac import Pgstac, prepare
from catalogue_service.domain.collections import all_collections
from catalogue_service.entrypoints.api import acquisitions, stac
from catalogue_service.entrypoints.consumers import provisioning as from_provisioning
from catalogue_service.service_layer.context import Catalogue
from catalogue_service.settings import Settings


def configure(statement_timeout_ms: int):
    async def warm(conn) -> None:
        """A new session compiles pgstac's PL/pgSQL on first use (tens of ms): pay it before a
        request does, then cut every later statement after ``statement_timeout_ms``."""
        await conn.execute("SELECT (pgstac.search_query('{}'))._where")
        await conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(statement_timeout_ms),))

    return warm


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    pool: AsyncConnectionPool
    context: Catalogue
    acquisitions: PostgresAcquisitions


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, with_mongo=False, topics=topics)
    pool = AsyncConnectionPool(settings.postgres_dsn, min_size=min(4, settings.postgres_pool_size),
                               max_size=settings.postgres_pool_size, open=False,
                               configure=configure(settings.postgres_statement_timeout_ms),
                               timeout=settings.postgres_pool_timeout_seconds,
                               kwargs={"autocommit": True, "connect_timeout": settings.postgres_connect_timeout_seconds,
                                       "options": "-c search_path=pgstac,public"})
    log = PostgresAcquisitions(pool)
    ctx = Catalogue(stac=Pgstac(pool), acquisitions=log, limits=settings.catalogue_limits,
                    retry_after_seconds=settings.retry_after_seconds)
    runtime.subscribe(provisioning.TOPIC, from_provisioning.GROUP, from_provisioning.handler(ctx))

    async def open_store() -> None:
        await asyncio.to_thread(prepare, settings.postgres_dsn, all_collections())
        await pool.open(wait=True, timeout=15)
        await log.migrate()

    async def postgres_ready() -> None:
        async with pool.connection(timeout=3) as conn:
            await conn.execute("select 1")

    runtime.before_start.append(open_store)  # the store must be ready before the consumer starts
    runtime.on_stop.append(pool.close)
    runtime.extra_checks["postgres"] = postgres_ready
    return Container(settings, runtime, pool, ctx, log)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    return c.runtime.create_app(title="DINAMIS catalogue", routers=[stac.router, acquisitions.router],
                                context=c.context)
