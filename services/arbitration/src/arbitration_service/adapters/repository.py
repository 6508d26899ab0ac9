"""Cases in MongoDB, ``_id`` = request id (a redelivered submission cannot open a second case)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore, Outgoing
from dinamis_contracts import arbitration as contract
from pymongo import ASCENDING, DESCENDING

from arbitration_service.domain.model import Case, CaseOpened, Decision, DecisionRecorded


def outgoing(case: Case) -> list[Outgoing]:
    out = []
    for event in case.events:
        if isinstance(event, CaseOpened):
            kind, data = contract.CASE_OPENED, contract.CaseOpenedV1(
                case_id=case.id, request_id=case.request_id, cell=case.cell, mission=case.mission,
                area_km2=case.area_km2, opened_at=case.opened_at)
        elif isinstance(event, DecisionRecorded) and case.decision is not None:
            d = case.decision
            kind, data = contract.DECISION_RECORDED, contract.DecisionRecordedV1(
                case_id=case.id, request_id=case.request_id, cell=case.cell, mission=case.mission,
                decision=d.decision, reason=d.reason, decided_by=d.decided_by, decided_at=d.decided_at,
                accepted_area_km2=d.accepted_area_km2)
        else:
            continue
        ce = CloudEvent(type=kind, source=contract.SOURCE, subject=case.request_id,
                        data=data.model_dump(mode="json"))
        out.append(Outgoing(contract.TOPIC, ce))
    return out


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
        added = await self.store.insert(to_document(case), outgoing(case))
        case.events.clear()
        return added

    async def list(self, cells: set[str] | None, limit: int) -> list[Case]:
        query = {"cell": {"$in": sorted(cells)}} if cells is not None else {}
        cursor = self.store.collection.find(query, {"outbox": 0}).sort("opened_at", DESCENDING).limit(limit)
        return [from_document(d) async for d in cursor]
