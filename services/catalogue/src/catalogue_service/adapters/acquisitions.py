"""Acquisitions in progress (ordered at Airbus, not yet delivered), in the catalogue's own
PostgreSQL. The delivered product will later enter the STAC index; until then the catalogue
knows an image is coming. Inserting by order id makes a redelivered event a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

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
"""


class Acquisitions:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(SCHEMA)

    async def record(self, order_id: str, request_id: str, mission: str, area_km2: float, at: datetime) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO catalogue.acquisitions (order_id, request_id, mission, area_km2, ordered_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (order_id, request_id, mission, area_km2, at),
            )
            return cur.rowcount == 1

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute("SELECT * FROM catalogue.acquisitions ORDER BY ordered_at DESC LIMIT %s", (limit,))
            return await cur.fetchall()
