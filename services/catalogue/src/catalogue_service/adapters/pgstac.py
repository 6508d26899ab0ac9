"""The STAC index: pgstac on PostgreSQL + PostGIS (partitioned items, CQL2 search, keyset paging).

Search is pgstac's own ``search(jsonb)`` SQL function; this adapter passes the request through
and reads back the FeatureCollection the database built, asking it not to hydrate the items:
that is done here, faster (see ``hydration``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
import shapely
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from catalogue_service.adapters.hydration import hydrate
from catalogue_service.service_layer.ports import IndexTimeout, IndexUnavailable, InvalidItem, SearchRefused

log = logging.getLogger(__name__)

# Indexed as numbers so that filters and sorts on them use a B-tree (ANCHORS.md: the
# France-wide sort by cloud went from 574 ms to 70 ms in the engine with these).
QUERYABLES = {
    "eo:cloud_cover": {"type": "number", "minimum": 0, "maximum": 100, "title": "Cloud cover (%)"},
    "view:incidence_angle": {"type": "number", "minimum": 0, "maximum": 90, "title": "Incidence angle (°)"},
}


# pgstac finds the item a paging token names with ``id = convert_from(decode(...), 'UTF8')``, whose
# result takes the "C" collation of the encoding name: the unique index on ``id`` (default
# collation) cannot serve it, and every ``next`` page began with a scan of all items (≈ 250 ms on
# a million). An index in that collation makes it a probe per partition (< 1 ms).
PAGING_INDEX = 'CREATE INDEX IF NOT EXISTS items_id_c_idx ON pgstac.items (id COLLATE "C")'


def prepare(dsn: str, collections: list[dict[str, Any]]) -> str:
    """Install or upgrade the pgstac schema, create missing collections, the numeric
    queryables and the paging index (idempotent; blocking, run it in a thread). Returns pgstac's version."""
    from pypgstac.db import PgstacDB
    from pypgstac.migrate import Migrate

    with PgstacDB(dsn=dsn) as db:
        version = Migrate(db).run_migration()
        for c in collections:
            if next(iter(db.query("SELECT pgstac.get_collection(%s) IS NULL", [c["id"]])))[0]:
                list(db.query("SELECT pgstac.create_collection(%s::jsonb)", [json.dumps(c)]))
        for name, definition in QUERYABLES.items():
            if not list(db.query("SELECT 1 FROM pgstac.queryables WHERE name = %s", [name])):
                list(db.query("INSERT INTO pgstac.queryables (name, definition, property_wrapper, "
                              "property_index_type) VALUES (%s, %s::jsonb, 'to_float', 'BTREE') RETURNING 1",
                              [name, json.dumps(definition)]))
    with psycopg.connect(dsn, autocommit=True) as conn:  # pgstac's migration leaves its session in a role of its own
        conn.execute(PAGING_INDEX)
    return version


@asynccontextmanager
async def translated(searching: bool = False) -> AsyncIterator[None]:
    """The database's failures as the port's errors, none of its text in them: a statement cut by
    the time-out, a database away (connection refused or lost, no connection free within the
    pool's time-out) and, for a search, what pgstac could not evaluate."""
    try:
        yield
    except psycopg.errors.QueryCanceled as exc:
        log.warning("statement cut by the time-out: %s", str(exc).splitlines()[0] if str(exc) else "")
        raise IndexTimeout("the search took longer than the catalogue allows") from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # PoolTimeout is an OperationalError
        log.warning("PostgreSQL unavailable: %s: %s", type(exc).__name__, exc)
        raise IndexUnavailable("the catalogue's database is unavailable") from exc
    except psycopg.Error as exc:
        if not searching:
            raise
        log.info("search refused by pgstac: %s: %s", type(exc).__name__, exc)
        raise SearchRefused("the search could not be evaluated") from exc


class Pgstac:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def _one(self, sql: str, *args: Any) -> Any:
        async with translated(), self.pool.connection() as conn:
            row = await (await conn.execute(sql, args)).fetchone()
            return row[0] if row else None

    async def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """pgstac's FeatureCollection for this search, its items hydrated here (see hydration).
        Raises IndexTimeout, IndexUnavailable or SearchRefused (the port's errors)."""
        body = {**body, "conf": {**(body.get("conf") or {}), "nohydrate": True}}
        async with translated(searching=True), self.pool.connection() as conn:
            row = await (await conn.execute("SELECT pgstac.search(%s)::text", (Jsonb(body),))).fetchone()
        result = orjson.loads(row[0])
        result["features"] = [hydrate(f) for f in result.get("features") or []]
        return result

    async def collections(self) -> list[dict[str, Any]]:
        return await self._one("SELECT coalesce(pgstac.all_collections(), '[]'::jsonb)") or []

    async def collection(self, cid: str) -> dict[str, Any] | None:
        return await self._one("SELECT pgstac.get_collection(%s)", cid)

    async def item(self, cid: str, item_id: str) -> dict[str, Any] | None:
        return await self._one("SELECT pgstac.get_item(%s, %s)", item_id, cid)

    async def queryables(self, cid: str | None) -> dict[str, Any]:
        if cid is None:
            return await self._one("SELECT pgstac.get_queryables(NULL::text[])")
        return await self._one("SELECT pgstac.get_queryables(%s::text)", cid)

    async def upsert_item(self, item: dict[str, Any]) -> bool:
        footprint = shapely.from_geojson(orjson.dumps(item["geometry"]), on_invalid="ignore")
        if footprint is None or footprint.is_empty or not footprint.is_valid:
            why = "not GeoJSON" if footprint is None else shapely.is_valid_reason(footprint)
            raise InvalidItem(f"item {item['id']}: its footprint is not a valid geometry ({why})")
        async with translated(), self.pool.connection() as conn, conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = 0")  # a new partition may take a while
            known = await (await conn.execute("SELECT 1 FROM pgstac.items WHERE id = %s AND collection = %s",
                                              (item["id"], item["collection"]))).fetchone()
            await conn.execute("SELECT pgstac.upsert_item(%s)", (Jsonb(item),))
        return known is None

    async def update_extents(self) -> None:
        async with translated(), self.pool.connection() as conn:
            await conn.execute("SELECT pgstac.update_collection_extents()")

    async def count(self) -> int:
        return await self._one("SELECT count(*) FROM pgstac.items")
