"""Composition root of the catalogue service. Its store is PostgreSQL + PostGIS: the STAC index
is pgstac (search is its main workload), acquisitions in progress a table of its own."""

from __future__ import annotations

import asyncio

from dinamis_common.runtime import Runtime
from dinamis_contracts import provisioning
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from psycopg_pool import AsyncConnectionPool

from catalogue_service.adapters.acquisitions import Acquisitions
from catalogue_service.adapters.pgstac import Pgstac, prepare
from catalogue_service.domain.collections import all_collections
from catalogue_service.entrypoints import api, consumers, stac
from catalogue_service.settings import Settings


async def warm(conn) -> None:
    """A new session compiles pgstac's PL/pgSQL on first use (tens of ms): pay it before a
    request does."""
    await conn.execute("SELECT (pgstac.search_query('{}'))._where")


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter, with_mongo=False)
    pool = AsyncConnectionPool(settings.postgres_dsn, min_size=4, max_size=10, open=False, configure=warm,
                               kwargs={"autocommit": True, "connect_timeout": 5,
                                       "options": "-c search_path=pgstac,public"})
    acquisitions = Acquisitions(pool)
    pgstac = Pgstac(pool)
    runtime.subscribe(provisioning.TOPIC, consumers.GROUP, consumers.provisioning_handler(acquisitions))

    async def open_store() -> None:
        await asyncio.to_thread(prepare, settings.postgres_dsn, all_collections())
        await pool.open(wait=True, timeout=15)
        await acquisitions.migrate()

    async def postgres_ready() -> None:
        async with pool.connection(timeout=3) as conn:
            await conn.execute("select 1")

    runtime.before_start.append(open_store)  # the store must be ready before the consumer starts
    runtime.on_stop.append(pool.close)
    runtime.extra_checks["postgres"] = postgres_ready
    return runtime.create_app(title="DINAMIS catalogue", routers=[stac.router, api.router],
                              acquisitions=acquisitions, pgstac=pgstac)
