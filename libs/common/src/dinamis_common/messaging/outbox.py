"""Aggregates and the side effects of each change, correct with any number of writers.

FerretDB has no multi-document transactions, and its guarded updates are not atomic: it
evaluates the filter, then rewrites the document, so writers guarded by the same ``version``
can all "win" (measured here: 38 of 50 trials with four writers lost an update). The one thing
it enforces across processes is a **unique index** (PostgreSQL checks it). So every change
starts with an insert that only one writer can make:

* ``<name>_changes`` holds one document per change, ``_id = "<aggregate>:<version>"``: whoever
  inserts it owns that version; a second writer gets ``DuplicateKeyError`` and reloads. Its
  ``cause`` is unique too (``<aggregate>|<incoming event id>``, or a fresh id): an event applied to
  an aggregate once is never applied to it again, by any replica, for as long as changes are kept
  (``retention``, as long as the topics keep records, so a replay from offset 0 changes nothing).
  The change carries the new state and its side effects: ``outbox`` (events) and any other map a
  service relays (e-mails), each with a ``<field>_pending`` flag the relay finds by equality (FerretDB pushes it down).
* ``<name>`` holds the current state, replaced (whole) where ``version`` is the previous one.
  Only the owner of the next version writes it, so FerretDB's two-step update cannot lose a
  write; ``changes`` keeps the causes of the last ``WINDOW`` changes.

A writer killed between the two writes leaves a claim whose state is not applied: the relay's
scan finds it (``settle``) and rolls it forward after ``grace_seconds`` (the claim holds the
whole new state), or drops it when the aggregate went on without it. The relay publishes only
changes known to be applied, and removes the records it published from the change; ``sweep``
deletes finished changes older than ``retention``. On MongoDB the same code is correct (its
guards are atomic anyway). Money and quotas can follow the same rule: one change per ledger
entry, deterministic cause.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from opentelemetry import propagate
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure
from uuid6 import uuid7

from dinamis_common.messaging.envelope import CloudEvent

OUTBOX = "outbox"
WINDOW = 32


class EventTooLarge(ValueError):
    """An event bigger than a Kafka record may be: refused before anything is stored (HTTP 413)."""


class EventNotSerialisable(ValueError):
    """An event whose data is not JSON (NaN, infinity, a foreign type): refused before anything is stored."""


@dataclass(frozen=True)
class Outgoing:
    """An event bound for a topic."""

    topic: str
    event: CloudEvent


def outbox_record(out: Outgoing, max_bytes: int = 900_000) -> dict[str, Any]:
    """The record the relay will publish, checked now: an event that could never be published is
    refused with the change that causes it, so nothing is stored half-way."""
    try:
        value = out.event.body().decode()
    except (TypeError, ValueError) as exc:
        raise EventNotSerialisable(f"event {out.event.type} cannot be written as JSON: {exc}") from exc
    headers = out.event.headers()
    size = len(value.encode()) + sum(len(k) + len(v.encode()) for k, v in headers.items()) + len(out.event.subject)
    if size > max_bytes:
        raise EventTooLarge(f"the {out.event.type} event would be {size:,} bytes, more than the {max_bytes:,} "
                            "an event may carry: send a smaller body")
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace continues from the write that produced the event
    return {"topic": out.topic, "key": out.event.subject, "headers": headers, "value": value, "trace": carrier}


class Verdict(Enum):
    APPLIED = "applied"  # the aggregate holds this change: its side effects may go
    ABANDONED = "abandoned"  # never applied and never will be: dropped, its cause free again
    WAIT = "wait"  # its writer may still be at work: look again later


class AggregateStore:
    """Insert / update one aggregate with the side effects of the change, one writer per version."""

    def __init__(
        self,
        collection: AsyncCollection,
        on_change: Callable[[AggregateStore, dict[str, Any]], None] = lambda _s, _c: None,
        *,
        changes: AsyncCollection | None = None,
        effects: Sequence[str] = (OUTBOX,),
        max_record_bytes: int = 900_000,
        grace_seconds: float = 10.0,
        retention: timedelta = timedelta(days=31),
        cache_size: int = 2048,
    ) -> None:
        self.collection = collection
        self.changes = changes if changes is not None else collection.database[f"{collection.name}_changes"]
        self.effects = tuple(dict.fromkeys((OUTBOX, *effects)))
        self.max_record_bytes = max_record_bytes
        self.grace = timedelta(seconds=grace_seconds)
        self.retention = retention
        self._on_change = on_change
        self._cache: OrderedDict[Any, dict[str, Any]] = OrderedDict()
        self._locks: weakref.WeakValueDictionary[Any, asyncio.Lock] = weakref.WeakValueDictionary()
        self._cache_size = cache_size

    async def ensure_indexes(self) -> None:
        await self.changes.create_index([("cause", ASCENDING)], name="cause", unique=True)
        await self.changes.create_index([("aggregate", ASCENDING), ("version", ASCENDING)], name="aggregate")
        await self.changes.create_index([("at", ASCENDING)], name="at")
        for field in self.effects:
            await self.changes.create_index([(pending(field), ASCENDING)], name=pending(field))

    # -- reading -------------------------------------------------------------------------------
    async def get(self, _id: Any, cached: bool = False) -> dict[str, Any] | None:
        """The aggregate as stored (treat it as read-only: it is also this store's cache). With
        ``cached``, what this process last read or wrote of it, if anything: for a read-modify-write,
        whose ``update`` fails harmlessly (``False``: read again) if another replica moved it since."""
        if cached and (doc := self._cache.get(_id)) is not None:
            return doc
        doc = await self.collection.find_one({"_id": _id})
        if doc is not None:
            self._remember(doc)
        return doc

    def _lock(self, _id: Any) -> asyncio.Lock:
        lock = self._locks.get(_id)
        if lock is None:
            lock = self._locks[_id] = asyncio.Lock()
        return lock

    def _remember(self, doc: dict[str, Any]) -> None:
        self._cache[doc["_id"]] = doc
        self._cache.move_to_end(doc["_id"])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _at_version(self, _id: Any, version: int) -> dict[str, Any] | None:
        doc = self._cache.get(_id)
        if doc is None or doc.get("version") != version:
            doc = await self.get(_id)
        return doc if doc is not None and doc.get("version") == version else None

    # -- writing -------------------------------------------------------------------------------
    async def insert(self, doc: dict[str, Any], events: Sequence[Outgoing] = (), *,
                     effects: Mapping[str, Mapping[str, Any]] | None = None, cause: str | None = None) -> bool:
        """Create an aggregate; ``False`` when one with that ``_id`` (or another unique key) exists.
        With ``cause`` (an incoming event id), a second delivery of that event returns ``True``."""
        cause = _cause(doc["_id"], cause)
        state = {**doc, "version": 1, "changes": [cause]}
        change = self._change(state, events, effects, cause)
        if not await self._claim(change):
            return await self._caused(cause)
        try:
            await self.collection.insert_one(state)
        except DuplicateKeyError:
            await self._release(change)
            return False
        return self._applied(state, change)

    async def update(
        self,
        _id: Any,
        expected_version: int,
        set_fields: Mapping[str, Any],
        events: Sequence[Outgoing] = (),
        push: Mapping[str, Any] | None = None,
        applied: str | None = None,
        inc: Mapping[str, int | float] | None = None,
        *,
        effects: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> bool:
        """Apply the change if the aggregate is still at ``expected_version``; ``False`` if somebody
        changed it first (reload and decide again). ``applied`` names the incoming event that causes
        the change: if it was applied before (by any replica), nothing is written and the answer is
        ``True``, the effect being in place. ``set_fields`` may use dotted paths."""
        cause = _cause(_id, applied)
        # one writer of an aggregate at a time in this process: not for correctness (the claim is),
        # but so that two consumers of one process changing one aggregate do not make each other
        # fail a claim and read again; the loser finds the new version in the cache instead
        async with self._lock(_id):
            return await self._update(_id, expected_version, cause, applied is not None, set_fields, events,
                                      push, inc, effects)

    async def _update(self, _id: Any, expected_version: int, cause: str, caused_by_event: bool,
                      set_fields: Mapping[str, Any], events: Sequence[Outgoing], push: Mapping[str, Any] | None,
                      inc: Mapping[str, int | float] | None,
                      effects: Mapping[str, Mapping[str, Any]] | None) -> bool:
        current = await self._at_version(_id, expected_version)
        if current is None:
            if not caused_by_event:
                return False
            known = self._cache.get(_id)  # moved on: with this event among its last changes?
            return cause in known.get("changes", []) if known else await self._caused(cause)
        state = _changed(current, set_fields, push or {}, inc or {})
        state["version"] = expected_version + 1
        state["changes"] = [*current.get("changes", []), cause][-WINDOW:]
        change = self._change(state, events, effects, cause)
        if not await self._claim(change):
            self._cache.pop(_id, None)
            return caused_by_event and await self._caused(cause)
        try:
            result = await self.collection.replace_one({"_id": _id, "version": expected_version}, state)
        except OperationFailure as exc:
            await self._release(change)
            raise as_duplicate_key(exc) from exc
        if not result.matched_count:
            # the relay may have rolled our claim forward already (we were slow); otherwise the
            # aggregate moved without a claim, which only a writer older than ``retention`` can see
            now = await self.collection.find_one({"_id": _id}, {"changes": 1})
            if not now or cause not in now.get("changes", []):
                await self._release(change)
                self._cache.pop(_id, None)
                return False
        return self._applied(state, change)

    def _change(self, state: dict[str, Any], events: Sequence[Outgoing],
                effects: Mapping[str, Mapping[str, Any]] | None, cause: str) -> dict[str, Any]:
        change: dict[str, Any] = {"_id": f"{state['_id']}:{state['version']}", "aggregate": state["_id"],
                                  "version": state["version"], "cause": cause, "at": datetime.now(UTC),
                                  "state": state}
        records = {OUTBOX: {o.event.id: outbox_record(o, self.max_record_bytes) for o in events}, **(effects or {})}
        for field, items in records.items():
            if field not in self.effects:
                raise ValueError(f"{self.collection.name}: side effect {field!r} is not relayed by this store")
            if items:
                change[field] = dict(items)
                change[pending(field)] = True
        return change

    async def _claim(self, change: dict[str, Any]) -> bool:
        try:
            await self.changes.insert_one(change)
        except DuplicateKeyError:
            return False
        except OperationFailure as exc:
            raise as_duplicate_key(exc) from exc
        return True

    async def _release(self, change: dict[str, Any]) -> None:
        await self.changes.delete_one({"_id": change["_id"], "cause": change["cause"]})

    async def _caused(self, cause: str) -> bool:
        return await self.changes.find_one({"cause": cause}, {"_id": 1}) is not None

    def _applied(self, state: dict[str, Any], change: dict[str, Any]) -> bool:
        self._remember(state)
        if any(pending(f) in change for f in self.effects):
            self._on_change(self, change)
        return True

    # -- for the relay -------------------------------------------------------------------------
    async def pending(self, field: str, aggregate: Any = None, limit: int = 500) -> list[dict[str, Any]]:
        query: dict[str, Any] = {pending(field): True}
        if aggregate is not None:
            query["aggregate"] = aggregate
        docs = await self.changes.find(query, {"state": 0}).limit(limit).to_list()
        return sorted(docs, key=lambda d: (str(d["aggregate"]), d["version"]))

    async def settle(self, change: dict[str, Any]) -> Verdict:
        """Whether a change found pending (not one this process just wrote) is in the aggregate."""
        version = change["version"]
        agg = await self.collection.find_one({"_id": change["aggregate"]}, {"version": 1, "changes": 1})
        at = agg["version"] if agg else 0
        if at >= version:
            if change["cause"] in agg.get("changes", []) or version <= at - WINDOW:
                return Verdict.APPLIED
            await self._release(change)
            return Verdict.ABANDONED
        if at < version - 1:
            return Verdict.WAIT  # an earlier change of this aggregate is still to be settled
        if datetime.now(UTC) - _aware(change["at"]) < self.grace:
            return Verdict.WAIT
        full = await self.changes.find_one({"_id": change["_id"]})
        if full is None or "state" not in full:
            return Verdict.ABANDONED
        try:  # roll forward what a dead writer claimed
            if version == 1:
                await self.collection.insert_one(full["state"])
            else:
                await self.collection.replace_one({"_id": change["aggregate"], "version": version - 1}, full["state"])
        except DuplicateKeyError:
            pass
        except OperationFailure as exc:
            if not isinstance(as_duplicate_key(exc), DuplicateKeyError):
                raise
        self._cache.pop(change["aggregate"], None)
        return await self.settle(change)

    async def done(self, change: dict[str, Any], field: str, quarantined: Mapping[str, Any] | None = None) -> None:
        """The records of ``field`` were relayed (or set aside in ``quarantined`` with their reason)."""
        update: dict[str, Any] = {"$set": {pending(field): False}, "$unset": {field: "", "state": ""}}
        if quarantined:
            update["$set"][f"{field}_quarantine"] = dict(quarantined)
        # the relays of one process (events, e-mails) mark one change one after the other: FerretDB
        # rewrites the whole document, so two marks at once could lose one (and send again)
        async with self._lock(("change", change["_id"])):
            await self.changes.update_one({"_id": change["_id"], "cause": change["cause"]}, update)

    async def sent(self, change: dict[str, Any], field: str, record_ids: Sequence[str]) -> None:
        """Some records of ``field`` went out, the others wait: forget the ones sent."""
        if record_ids:
            async with self._lock(("change", change["_id"])):
                await self.changes.update_one({"_id": change["_id"], "cause": change["cause"]},
                                              {"$unset": {f"{field}.{r}": "" for r in record_ids}})

    async def sweep(self, now: datetime | None = None) -> int:
        """Forget finished changes older than ``retention`` (FerretDB has no TTL index)."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        query: dict[str, Any] = {"at": {"$lt": cutoff}, **{pending(f): {"$ne": True} for f in self.effects}}
        return (await self.changes.delete_many(query)).deleted_count


def _cause(aggregate: Any, event_id: str | None) -> str:
    """What makes a change unique besides its version: the incoming event *for this aggregate*
    (one event may change several aggregates, each once), or nothing in particular."""
    return f"{aggregate}|{event_id}" if event_id else uuid7().hex


def applied_events(doc: Mapping[str, Any]) -> set[str]:
    """The incoming events among the aggregate's last ``WINDOW`` changes: a handler can skip a
    redelivery without a write (an older one is still refused by the changes' unique cause)."""
    prefix = f"{doc['_id']}|"
    return {c.removeprefix(prefix) for c in doc.get("changes", []) if c.startswith(prefix)}


def pending(field: str) -> str:
    return f"{field}_pending"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _changed(current: Mapping[str, Any], sets: Mapping[str, Any], push: Mapping[str, Any],
             inc: Mapping[str, int | float]) -> dict[str, Any]:
    """``current`` with MongoDB-style ``$set`` / ``$push`` / ``$inc`` applied (dotted paths allowed),
    copying only the sub-documents on the changed paths."""
    state = dict(current)

    def parent(path: str) -> tuple[dict[str, Any], str]:
        *parts, leaf = path.split(".")
        node = state
        for part in parts:
            child = dict(node.get(part) or {})
            node[part] = child
            node = child
        return node, leaf

    for path, value in sets.items():
        node, leaf = parent(path)
        node[leaf] = value
    for path, value in push.items():
        node, leaf = parent(path)
        node[leaf] = [*node.get(leaf, []), value]
    for path, amount in inc.items():
        node, leaf = parent(path)
        node[leaf] = node.get(leaf, 0) + amount
    return state


def as_duplicate_key(exc: OperationFailure) -> OperationFailure:
    """A write that breaks a unique index is a ``DuplicateKeyError`` on MongoDB; FerretDB 1.24
    reports it on updates as an ``InternalError`` carrying PostgreSQL's unique-violation (SQLSTATE
    23505). Callers see ``DuplicateKeyError`` on both."""
    if isinstance(exc, DuplicateKeyError) or ("23505" not in str(exc) and "duplicate key" not in str(exc)):
        return exc
    return DuplicateKeyError(str(exc), 11000, exc.details)
