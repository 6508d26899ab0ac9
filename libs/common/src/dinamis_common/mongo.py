"""PyMongo's async API (``AsyncMongoClient``; motor is end-of-life).

FerretDB (local and CI) and MongoDB (production) must both work: UUIDs in the standard
representation, timezone-aware datetimes, no Decimal128 (money is integer minor units).
"""

from __future__ import annotations

from opentelemetry.instrumentation.pymongo import CommandTracer
from pymongo import AsyncMongoClient

from dinamis_common.telemetry import Telemetry


def make_mongo_client(uri: str, app_name: str, telemetry: Telemetry | None = None,
                      timeout_ms: int = 10_000) -> AsyncMongoClient:
    """Every operation is bounded by ``timeout_ms`` (client-side operation timeout): a database
    that stops answering raises a timeout the callers classify as an outage, never a hang."""
    listeners = [CommandTracer(telemetry.tracer("pymongo"))] if telemetry else []
    return AsyncMongoClient(
        uri,
        appname=app_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=5000,
        timeoutMS=timeout_ms,
        event_listeners=listeners,
    )


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")
