"""Quota ledgers in MongoDB, each change a few small writes whatever the number of entries.

* ``quota_entries``: one insert-only document per entry, ``_id`` = its deterministic id
  (``hold:<case>``, ``commit:<case>:<n>``, ``release:<case>:<reason>``) with ``cell``, ``period``,
  ``case``, ``kind``, ``m2`` and ``applied``. A duplicate insert means the entry exists. The rules
  that need a case's entries read them by ``case`` equality (pushed down by FerretDB).
* ``quota_ledgers``: one small aggregate per (cell, period), ``_id = "<cell>:<period>"``, holding
  only the m² of its entries by kind (``hold_m2``, ``commit_m2``, ``release_m2``). An entry is
  applied to it through ``AggregateStore`` with ``applied=<entry id>``: the change's cause is unique
  per aggregate and entry, so an entry is counted once, by any replica; the budget is checked against
  the totals at the version the change claims. A lost version reloads only this document.
* ``<ledgers>_cases`` places each case's quota: ``_id`` = case id, ``cell`` and ``period`` of its
  hold, or ``closed`` when a release came before any hold. Only an insert decides (a unique ``_id``,
  atomic on FerretDB too), so a hold and a cancellation racing on two replicas agree on one outcome.

Writing an entry: insert it (``applied: false``), apply it to the totals, then mark it applied
(best effort: an upsert, so a concurrent ``drop`` cannot lose an applied entry). A writer that stops
between the insert and the apply leaves an unapplied entry: whoever asks for the same change again
(a redelivered event, the decisions' sweep) applies it; ``unapplied`` finds those older than a
minute for the periodic sweep (``quotas.settle``), which decides them again by the same rules and
applies or drops them. An entry applied but not marked is recognised by its cause in the changes.
A ledger stored in the first format (every entry in one array) is migrated when first read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import AggregateStore, Outgoing
from dinamis_contracts import quota as contract
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from arbitration_service.domain.ledger import Ledger, QuotaChanged, ledger_id, parse, to_km2

_EVENTS = {"hold": (contract.QUOTA_HELD, contract.QuotaHeldV1),
           "commit": (contract.QUOTA_COMMITTED, contract.QuotaCommittedV1),
           "release": (contract.QUOTA_RELEASED, contract.QuotaReleasedV1)}


KINDS = ("hold", "commit", "release")


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
    def __init__(self, store: AggregateStore, cases: AsyncCollection | None = None,
                 entries: AsyncCollection | None = None, announce: bool = True) -> None:
        """``announce``: publish quota events for its changes (a cell's ledger); a prepaid package's
        ledger (``cell`` = the package id) announces nothing."""
        self.store = store
        self.announce = announce
        database = store.collection.database
        self.cases = cases if cases is not None else database[f"{store.collection.name}_cases"]
        self.entries = entries if entries is not None else database["quota_entries"]

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.entries.create_index([("case", ASCENDING)], name="case")
        await self.entries.create_index([("applied", ASCENDING)], name="applied")

    async def get(self, cell: str, period: str, case: str | None = None, fresh: bool = True) -> tuple[Ledger, int]:
        """The ledger's totals and version, with the applied entries of ``case``; not ``fresh``: the
        totals this process last read or wrote (a change on them fails harmlessly if they moved)."""
        doc = await self.store.get(ledger_id(cell, period), cached=not fresh)
        while doc is not None and doc.get("entries"):
            doc = await self._migrate(doc)
        totals = {k: int(doc.get(f"{k}_m2", 0)) if doc else 0 for k in KINDS}
        entries: dict[str, int] = {}
        if case is not None:
            for e in await self.entries.find({"case": case}).to_list():
                if (e["cell"], e["period"]) == (cell, period) and (e["applied"] or await self._was_applied(e)):
                    entries[e["_id"]] = int(e["m2"])
        return Ledger(cell, period, entries, totals=totals), doc["version"] if doc else 0

    async def save(self, ledger: Ledger, version: int) -> bool:
        """Record and apply the entries added to the ledger, each at the next version; ``False`` when
        somebody changed the totals first (read again and decide again)."""
        events = {e.entry_id: e for e in ledger.events}
        try:
            for entry in ledger.added:
                kind, case = parse(entry)
                m2 = ledger.entries[entry]
                await self._record(ledger, entry, kind, case, m2)
                out = outgoing([events[entry]] if entry in events and self.announce else [])
                if version == 0:
                    doc = {"_id": ledger.id, "cell": ledger.cell, "period": ledger.period,
                           **{f"{k}_m2": m2 if k == kind else 0 for k in KINDS}}
                    saved = await self.store.insert(doc, out, cause=entry)
                else:
                    saved = await self.store.update(ledger.id, version, {}, out, applied=entry, inc={f"{kind}_m2": m2})
                if not saved:
                    return False
                version += 1
                await self.entries.update_one({"_id": entry}, {"$set": {"applied": True}, "$setOnInsert": {
                    "cell": ledger.cell, "period": ledger.period, "case": case, "kind": kind, "m2": m2,
                    "at": datetime.now(UTC)}}, upsert=True)
            return True
        finally:
            ledger.added.clear()
            ledger.events.clear()

    async def drop(self, entry: str, cell: str, period: str) -> None:
        """Forget an entry that was recorded but is not applied (refused when decided again)."""
        doc = await self.entries.find_one({"_id": entry})
        if doc is not None and not doc["applied"] and not await self._was_applied(doc):
            await self.entries.delete_one({"_id": entry, "applied": False})

    async def unapplied(self, before: datetime, limit: int = 100) -> list[tuple[str, str, str, int]]:
        """Entries recorded before ``before`` and still not applied: ``(entry id, cell, period, m²)``."""
        docs = await self.entries.find({"applied": False}).to_list()
        return [(d["_id"], d["cell"], d["period"], int(d["m2"])) for d in docs if _aware(d["at"]) < before][:limit]

    async def _migrate(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """A ledger stored in the first format (all its entries in an ``entries`` array): its entries
        become applied documents of ``quota_entries`` and its totals are counted, once."""
        now = datetime.now(UTC)
        docs = [{"_id": e["id"], "cell": doc["cell"], "period": doc["period"], "case": parse(e["id"])[1],
                 "kind": parse(e["id"])[0], "m2": int(e["m2"]), "applied": True, "at": now} for e in doc["entries"]]
        try:
            await self.entries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise
        totals = {f"{k}_m2": int(doc.get(f"{k}_m2", 0)) for k in KINDS}
        for d in docs:
            totals[f"{d['kind']}_m2"] += d["m2"]
        await self.store.update(doc["_id"], doc["version"], {"entries": [], **totals}, applied="migrated")
        return await self.store.get(doc["_id"])

    async def _record(self, ledger: Ledger, entry: str, kind: str, case: str, m2: int) -> None:
        doc = {"_id": entry, "cell": ledger.cell, "period": ledger.period, "case": case, "kind": kind, "m2": m2,
               "applied": False, "at": datetime.now(UTC)}
        try:
            await self.entries.insert_one(doc)
        except DuplicateKeyError:  # recorded by an attempt that stopped: decided again here, with its amount
            await self.entries.update_one({"_id": entry, "applied": False}, {"$set": {"m2": m2}})

    async def _was_applied(self, entry: dict[str, Any]) -> bool:
        """An entry applied whose writer stopped before marking it: marked now."""
        cause = f"{ledger_id(entry['cell'], entry['period'])}|{entry['_id']}"
        if await self.store.changes.find_one({"cause": cause}, {"_id": 1}) is None:
            return False
        await self.entries.update_one({"_id": entry["_id"]}, {"$set": {"applied": True}})
        return True

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


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _where(doc: dict[str, Any] | None) -> tuple[str, str] | None:
    return (doc["cell"], doc["period"]) if doc and "cell" in doc else None
