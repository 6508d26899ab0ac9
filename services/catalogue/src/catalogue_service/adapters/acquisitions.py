"""Acquisitions in progress in the catalogue's own PostgreSQL. Inserting by order id makes a
redelivered event a no-op."""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from catalogue_service.domain.acquisitions import Acquisition

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS catalogue;
CREATE TABLE IF NOT EXISTS catalogue.acquisitions (
    order_id    text PRIMARY KEY,
    request_id  text NOT NULL UNIQUE,
    mission     text NOT NULL,
    area_km2    double precision NOT NULL,
    ordered_at  timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'ordered'
);
ALTER TABLE catalogue.acquisitions ADD COLUMN IF NOT EXISTS item_id text;
"""


class PostgresAcquisitions:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(SCHEMA)

    async def record(self, a: Acquisition) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO catalogue.acquisitions (order_id, request_id, mission, area_km2, ordered_at, status) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (a.order_id, a.request_id, a.mission, a.area_km2, a.ordered_at, a.status),
            )
            return cur.rowcount == 1

    async def delivered(self, order_id: str, item_id: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("UPDATE catalogue.acquisitions SET status = 'delivered', item_id = %s "
                               "WHERE order_id = %s", (item_id, order_id))

    async def recent(self, limit: int) -> list[Acquisition]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute("SELECT order_id, request_id, mission, area_km2, ordered_at, status "
                              "FROM catalogue.acquisitions ORDER BY ordered_at DESC LIMIT %s", (limit,))
            return [Acquisition(**row) for row in await cur.fetchall()]
