"""Quota ledgers in MongoDB: one aggregate per (cell, period), ``_id = "<cell>:<period>"``, holding
only its entries' ids and m²; each change writes the next version through ``AggregateStore``
(one writer per version, whatever the replicas) with its ``arbitration.quota.*`` events.

``<ledgers>_cases`` places each case's quota: ``_id`` = case id, ``cell`` and ``period`` of its
hold, or ``closed`` when a release came before any hold. Only an insert decides (a unique ``_id``,
atomic on FerretDB too), so a hold and a cancellation racing on two replicas agree on one outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore, Outgoing
from dinamis_contracts import quota as contract
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from arbitration_service.domain.ledger import Ledger, QuotaChanged, ledger_id, to_km2

_EVENTS = {"hold": (contract.QUOTA_HELD, contract.QuotaHeldV1),
           "commit": (contract.QUOTA_COMMITTED, contract.QuotaCommittedV1),
           "release": (contract.QUOTA_RELEASED, contract.QuotaReleasedV1)}


def to_document(ledger: Ledger) -> dict[str, Any]:
    return {"_id": ledger.id, "cell": ledger.cell, "period": ledger.period,
            "entries": [{"id": e, "m2": m2} for e, m2 in ledger.entries.items()]}


def from_document(doc: dict[str, Any]) -> Ledger:
    return Ledger(doc["cell"], doc["period"], {e["id"]: int(e["m2"]) for e in doc.get("entries", [])})


def outgoing(events: Iterable[QuotaChanged]) -> list[Outgoing]:
    out = []
    for e in events:
        kind, payload = _EVENTS[e.kind]
        data = payload(entry_id=e.entry_id, case_id=e.case_id, cell=e.cell, period=e.period, km2=to_km2(e.m2),
                       at=e.at, balance=contract.QuotaBalanceV1(**e.balances.km2()),
                       **({"reason": e.reason} if e.kind == "release" else {}))
        out.append(Outgoing(contract.TOPIC, CloudEvent(type=kind, source=contract.SOURCE,
                                                       subject=ledger_id(e.cell, e.period),
                                                       data=data.model_dump(mode="json"))))
    return out


class MongoLedgerRepository:
    def __init__(self, store: AggregateStore, cases: AsyncCollection | None = None) -> None:
        self.store = store
        self.cases = cases if cases is not None else store.collection.database[f"{store.collection.name}_cases"]

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()

    async def get(self, cell: str, period: str) -> tuple[Ledger, int]:
        doc = await self.store.get(ledger_id(cell, period))
        if doc is None:
            return Ledger(cell, period), 0
        return from_document(doc), doc["version"]

    async def save(self, ledger: Ledger, version: int, cause: str | None) -> bool:
        doc, events = to_document(ledger), outgoing(ledger.events)
        if version == 0:
            saved = await self.store.insert(doc, events, cause=cause)
        else:
            saved = await self.store.update(ledger.id, version, {"entries": doc["entries"]}, events, applied=cause)
        ledger.events.clear()
        return saved

    async def place(self, case: str, cell: str, period: str) -> tuple[str, str] | None:
        return _where(await self._first(case, {"cell": cell, "period": period}))

    async def unplace(self, case: str, cell: str, period: str) -> None:
        await self.cases.delete_one({"_id": case, "cell": cell, "period": period})

    async def placement(self, case: str) -> tuple[str, str] | None:
        return _where(await self.cases.find_one({"_id": case}))

    async def close(self, case: str, reason: str) -> tuple[str, str] | None:
        return _where(await self._first(case, {"closed": reason}))

    async def _first(self, case: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """The case's placement: ``fields`` if this insert was the first, else what was there."""
        doc = {"_id": case, **fields, "at": datetime.now(UTC)}
        try:
            await self.cases.insert_one(doc)
            return doc
        except DuplicateKeyError:
            return await self.cases.find_one({"_id": case})


def _where(doc: dict[str, Any] | None) -> tuple[str, str] | None:
    return (doc["cell"], doc["period"]) if doc and "cell" in doc else None
