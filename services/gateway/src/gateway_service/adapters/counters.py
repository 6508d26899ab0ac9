"""The rate-limit counters in PostgreSQL, shared by every gateway replica.

One row per key and fixed window; a call adds one to all its counters in a single statement
(``INSERT … ON CONFLICT … DO UPDATE SET n = n + 1 RETURNING n``, atomic across connections, which
FerretDB's updates are not) that also reads each key's previous window, on the database's clock so
that replicas whose clocks differ still share windows. The table is UNLOGGED: counters lost in a
database crash only give every client a fresh window, and no write-ahead log is paid per call.
Rows expire two windows after theirs began and are swept periodically."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway_service.domain.limits import Count, Hit
from gateway_service.service_layer.ports import CountersUnavailable

log = logging.getLogger(__name__)

_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.rate_counters (
    key text NOT NULL,
    win bigint NOT NULL,
    n integer NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key, win));
CREATE INDEX IF NOT EXISTS rate_counters_expiry ON {schema}.rate_counters (expires_at);
"""

_ADD = """
WITH args AS (
    SELECT a.key, a.seconds, floor(t.now / a.seconds)::bigint AS win, t.now
    FROM unnest(%s::text[], %s::int[]) AS a(key, seconds),
         (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) AS t
), hit AS (
    INSERT INTO {schema}.rate_counters AS c (key, win, n, expires_at)
    SELECT key, win, 1, to_timestamp((win + 2) * seconds) FROM args ORDER BY key
    ON CONFLICT (key, win) DO UPDATE SET n = c.n + 1
    RETURNING c.key, c.n
)
SELECT args.key, hit.n, coalesce(p.n, 0), args.now - args.win * args.seconds
FROM args JOIN hit ON hit.key = args.key
LEFT JOIN {schema}.rate_counters p ON p.key = args.key AND p.win = args.win - 1
"""

_SWEEP = "DELETE FROM {schema}.rate_counters WHERE expires_at < now()"

FAILURES = (psycopg.Error, PoolTimeout, OSError, TimeoutError)


class PostgresCounters:
    def __init__(self, dsn: str, schema: str, timeout_seconds: float, max_connections: int = 8) -> None:
        self.schema = sql.Identifier(schema)
        self.timeout = timeout_seconds
        statement_ms = max(1, int(timeout_seconds * 1000))
        self.pool = AsyncConnectionPool(
            dsn, min_size=1, max_size=max_connections, open=False, name="gateway-rate-limits",
            kwargs={"autocommit": True, "connect_timeout": max(2, int(timeout_seconds + 0.999)),
                    "options": f"-c statement_timeout={statement_ms}"})
        self._ready = False
        self._prepared = asyncio.Lock()

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=self.schema)

    async def open(self) -> None:
        """Opens the pool without waiting for the database (the gateway starts while it is away) and
        creates the table if it can."""
        await self.pool.open(wait=False)
        try:
            await self._prepare()
        except FAILURES as exc:
            log.warning("rate-limit counters not ready at start (%s): created on first use", exc)

    async def close(self) -> None:
        await self.pool.close()

    async def _prepare(self) -> None:
        async with self._prepared:
            if self._ready:
                return
            async with self.pool.connection(timeout=self.timeout) as conn:
                try:
                    await conn.execute(self._sql(_DDL))
                except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                    await conn.execute(self._sql(_DDL))  # another replica created it at the same moment
            self._ready = True

    async def add(self, hits: Sequence[Hit]) -> list[Count]:
        by_key = {h.key: h for h in hits}
        try:
            async with asyncio.timeout(self.timeout * 2):
                if not self._ready:
                    await self._prepare()
                async with self.pool.connection(timeout=self.timeout) as conn:
                    cursor = await conn.execute(self._sql(_ADD), (list(by_key),
                                                                  [h.limit.seconds for h in by_key.values()]))
                    rows = await cursor.fetchall()
        except FAILURES as exc:
            raise CountersUnavailable(f"{type(exc).__name__}") from exc
        counts = {key: Count(by_key[key], current, previous, float(elapsed))
                  for key, current, previous, elapsed in rows}
        return [counts[h.key] for h in hits if h.key in counts]

    async def sweep(self) -> int:
        """Deletes the windows no count reads any more; how many."""
        async with self.pool.connection(timeout=self.timeout) as conn:
            cursor = await conn.execute(self._sql(_SWEEP))
            return cursor.rowcount
