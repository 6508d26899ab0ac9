"""Cases in MongoDB, ``_id`` = request id (a redelivered submission cannot open a second case)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import asdict
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore
from pymongo import ASCENDING, DESCENDING

from arbitration_service.adapters.translators import outgoing
from arbitration_service.domain.model import Case, Decision

_FIELDS = ("request_id", "cell", "mission", "area_km2", "requester", "opened_at", "status", "decision")


def to_document(case: Case) -> dict[str, Any]:
    return {"_id": case.id, "request_id": case.request_id, "cell": case.cell, "mission": case.mission,
            "area_km2": case.area_km2, "requester": case.requester, "opened_at": case.opened_at,
            "status": case.status, "decision": asdict(case.decision) if case.decision else None}


def from_document(doc: dict[str, Any]) -> Case:
    return Case(id=doc["_id"], request_id=doc["request_id"], cell=doc["cell"], mission=doc["mission"],
                area_km2=doc["area_km2"], requester=doc["requester"], opened_at=doc["opened_at"],
                decision=Decision(**doc["decision"]) if doc.get("decision") else None)


class MongoCaseRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("cell", ASCENDING), ("opened_at", DESCENDING)], name="cell_recent")

    async def add(self, case: Case) -> bool:
        added = await self.store.insert(to_document(case), outgoing(case.events))
        case.events.clear()
        return added

    async def list(self, cells: Set[str] | None, limit: int) -> list[Case]:
        query = {"cell": {"$in": sorted(cells)}} if cells is not None else {}
        cursor = self.store.collection.find(query, dict.fromkeys(_FIELDS, 1))
        return [from_document(d) async for d in cursor.sort("opened_at", DESCENDING).limit(limit)]
