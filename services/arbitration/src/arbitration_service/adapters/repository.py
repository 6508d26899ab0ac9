"""Cases in MongoDB, ``_id`` = request id (a redelivered submission cannot open a second case),
with their decisions and history inside, and what the cell needs of the request (kind, priority,
justification, funding reference, tasking or scenes without their geometries, the frozen quote with
its offers; a case stored before these has kind ``tasking``, priority ``standard``, no quote);
``cases_pace`` holds, per cell and day, the cases decided by people (``_id`` ``<cell>:<day>``, the
case ids added as a set: counting one twice is impossible);
``cases_deciding`` the decisions being recorded (``_id`` = case id: one at a time, an insert decides).

Every query filters by top-level equality (``cell``, ``status``), which FerretDB pushes down to
PostgreSQL; the queue is sorted by the caller, over a bounded page."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from arbitration_service.adapters.translators import outgoing
from arbitration_service.domain.model import PRIORITIES, Case, Decision, Status, Step
from arbitration_service.service_layer.ports import Claim

_FIELDS = ("request_id", "cell", "mission", "area_km2", "requester", "opened_at", "status", "priority",
           "decisions", "history", "decision", "version", "kind", "justification", "funding_reference", "quote",
           "tasking", "scenes")
_OLD_STATUS = {"open": Status.IN_REVIEW}  # before decisions by people: ``open`` or ``decided``


def to_document(case: Case) -> dict[str, Any]:
    return {"_id": case.id, "request_id": case.request_id, "cell": case.cell, "mission": case.mission,
            "area_km2": case.area_km2, "requester": case.requester, "opened_at": case.opened_at,
            "status": str(case.status), "priority": case.priority,
            "decisions": [asdict(d) for d in case.decisions],
            "history": [{**asdict(s), "status": str(s.status)} for s in case.history],
            "kind": case.kind, "justification": case.justification, "funding_reference": case.funding_reference,
            "quote": case.quote, "tasking": case.tasking, "scenes": case.scenes}


def from_document(doc: dict[str, Any]) -> Case:
    decisions = [Decision(**d) for d in doc.get("decisions") or ([doc["decision"]] if doc.get("decision") else [])]
    status = doc.get("status", "open")
    return Case(id=doc["_id"], request_id=doc["request_id"], cell=doc["cell"], mission=doc["mission"],
                area_km2=doc["area_km2"], requester=doc["requester"], opened_at=doc["opened_at"],
                status=_OLD_STATUS.get(status) or Status(status),
                priority=doc["priority"] if doc.get("priority") in PRIORITIES else "standard",
                decisions=decisions, history=[Step(**s) for s in doc.get("history", [])],
                version=doc.get("version", 0), kind=doc.get("kind") or "tasking",
                justification=doc.get("justification") or "", funding_reference=doc.get("funding_reference"),
                quote=doc.get("quote"), tasking=doc.get("tasking"), scenes=doc.get("scenes") or [])


class MongoCaseRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.pace = store.collection.database[f"{store.collection.name}_pace"]
        self.deciding = store.collection.database[f"{store.collection.name}_deciding"]

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.store.collection.create_index([("cell", ASCENDING), ("opened_at", DESCENDING)], name="cell_recent")
        await self.store.collection.create_index([("cell", ASCENDING), ("status", ASCENDING)], name="cell_status")
        await self.pace.create_index([("cell", ASCENDING), ("day", ASCENDING)], name="cell_day")
        await self.deciding.create_index([("at", ASCENDING)], name="at")

    async def add(self, case: Case) -> bool:
        added = await self.store.insert(to_document(case), outgoing(case.events))
        case.events.clear()
        return added

    async def get(self, case_id: str, for_change: bool = False) -> Case | None:
        doc = await self.store.get(case_id, cached=for_change)
        return from_document(doc) if doc else None

    async def save(self, case: Case, applied_event: str | None = None) -> bool:
        doc = to_document(case)
        doc.pop("_id")
        saved = await self.store.update(case.id, case.version, doc, outgoing(case.events), applied=applied_event)
        case.events.clear()
        return saved

    async def list(self, cells: Set[str] | None, limit: int) -> list[Case]:
        query = {"cell": {"$in": sorted(cells)}} if cells is not None else {}
        cursor = self.store.collection.find(query, dict.fromkeys(_FIELDS, 1))
        return [from_document(d) async for d in cursor.sort("opened_at", DESCENDING).limit(limit)]

    async def in_review(self, cell: str, limit: int) -> tuple[list[Case], int]:
        query = {"cell": cell, "status": str(Status.IN_REVIEW)}
        found = [from_document(d) async for d in self.store.collection.find(query, dict.fromkeys(_FIELDS, 1))
                 .limit(limit)]
        count = len(found) if len(found) < limit else await self.store.collection.count_documents(query)
        return found, count

    async def count_decision(self, cell: str, day: date, case_id: str) -> None:
        change = {"$setOnInsert": {"cell": cell, "day": day.isoformat()}, "$addToSet": {"cases": case_id}}
        try:
            await self.pace.update_one({"_id": f"{cell}:{day.isoformat()}"}, change, upsert=True)
        except DuplicateKeyError:  # two first decisions of the day at once: the document exists now
            await self.pace.update_one({"_id": f"{cell}:{day.isoformat()}"}, change)

    async def decisions_since(self, cell: str, since: date) -> int:
        days = self.pace.find({"cell": cell, "day": {"$gte": since.isoformat()}}, {"cases": 1})
        return sum([len(d.get("cases", [])) async for d in days])

    async def claim(self, claim: Claim) -> Claim | None:
        doc = asdict(claim)
        doc["_id"] = doc.pop("case_id")
        try:
            await self.deciding.insert_one(doc)
            return None
        except DuplicateKeyError:
            held = await self.deciding.find_one({"_id": claim.case_id})
            return _claim(held) if held else await self.claim(claim)  # dropped meanwhile: try again

    async def unclaim(self, claim: Claim) -> None:
        await self.deciding.delete_one({"_id": claim.case_id, "token": claim.token})

    async def claims_before(self, at: datetime, limit: int) -> list[Claim]:
        return [_claim(d) async for d in self.deciding.find({"at": {"$lt": at}}).limit(limit)]


def _claim(doc: dict[str, Any]) -> Claim:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return Claim(case_id=doc["_id"], **fields)
