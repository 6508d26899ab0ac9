"""Aggregates stored with their outbox, in one document, changed by one atomic write.

FerretDB has no multi-document transactions, and MongoDB recommends single-document
atomicity anyway. A state change and the events it produces are written together:

* ``outbox``: a map ``event_id -> record to publish`` (a map, not an array: FerretDB's
  ``$pull`` with a condition silently removes nothing, ``$unset`` of a key works everywhere);
* ``outbox_pending``: how many records wait, indexed so the relay finds them cheaply;
* ``applied_events``: ids of the incoming events already applied, checked in the same
  filter that applies the next one, so a redelivered event changes nothing;
* ``version``: optimistic concurrency.

Every write to one aggregate is also serialized inside the process (:func:`write_lock`):
FerretDB evaluates a conditional update's filter and applies it in two steps, so concurrent
writers guarded by the same ``version`` can all "win" and overwrite each other (measured:
38 of 50 trials with four writers). MongoDB's own guard is atomic, which covers several
replicas in production; the in-process lock makes one process correct on both.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import propagate
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure

from dinamis_common.messaging.envelope import CloudEvent

PLUMBING_FIELDS = ("outbox", "outbox_pending", "applied_events")

_locks: weakref.WeakValueDictionary[tuple[str, Any], asyncio.Lock] = weakref.WeakValueDictionary()


def write_lock(collection: AsyncCollection, _id: Any) -> asyncio.Lock:
    """The lock every writer of this aggregate takes in this process."""
    key = (collection.full_name, _id)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    return lock


@dataclass(frozen=True)
class Outgoing:
    """An event bound for a topic."""

    topic: str
    event: CloudEvent


def outbox_record(out: Outgoing) -> dict[str, Any]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace continues from the write that produced the event
    return {
        "topic": out.topic,
        "key": out.event.subject,
        "headers": out.event.headers(),
        "value": out.event.body().decode(),
        "trace": carrier,
    }


class AggregateStore:
    """Insert / update one aggregate document together with the events it emits."""

    def __init__(self, collection: AsyncCollection,
                 on_outbox: Callable[[AsyncCollection, Any], None] = lambda _c, _id: None) -> None:
        self.collection = collection
        self._on_outbox = on_outbox

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("outbox_pending", ASCENDING)], name="outbox_pending")

    async def get(self, _id: Any) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": _id})

    async def insert(self, doc: dict[str, Any], events: Sequence[Outgoing] = ()) -> bool:
        """Insert a new aggregate; ``False`` when one with that ``_id`` (or unique key) exists."""
        full = {
            **doc,
            "version": 1,
            "outbox": {o.event.id: outbox_record(o) for o in events},
            "outbox_pending": len(events),
            "applied_events": list(doc.get("applied_events", [])),
        }
        try:
            await self.collection.insert_one(full)
        except DuplicateKeyError:
            return False
        if events:
            self._on_outbox(self.collection, full["_id"])
        return True

    async def update(
        self,
        _id: Any,
        expected_version: int,
        set_fields: dict[str, Any],
        events: Sequence[Outgoing] = (),
        push: dict[str, Any] | None = None,
        applied: str | None = None,
        inc: dict[str, int] | None = None,
    ) -> bool:
        """Apply the change if nobody changed the aggregate since ``expected_version`` and, when
        ``applied`` names an incoming event, only if that event was not applied before. ``inc``
        adds to other counters in the same write (e.g. a second outbox's pending count)."""
        query: dict[str, Any] = {"_id": _id, "version": expected_version}
        sets = dict(set_fields)
        for o in events:
            sets[f"outbox.{o.event.id}"] = outbox_record(o)
        pushes = dict(push or {})
        if applied is not None:
            query["applied_events"] = {"$ne": applied}
            pushes["applied_events"] = applied
        update: dict[str, Any] = {"$set": sets, "$inc": {**(inc or {}), "version": 1, "outbox_pending": len(events)}}
        if pushes:
            update["$push"] = pushes
        async with write_lock(self.collection, _id):
            try:
                result = await self.collection.update_one(query, update)
            except OperationFailure as exc:
                raise as_duplicate_key(exc) from exc
        if result.modified_count and events:
            self._on_outbox(self.collection, _id)
        return bool(result.modified_count)


async def pending_documents(collection: AsyncCollection, limit: int = 100, field: str = "outbox",
                            counter: str = "outbox_pending") -> list[dict[str, Any]]:
    cursor = collection.find({counter: {"$gt": 0}}, {field: 1}).limit(limit)
    return await cursor.to_list()


async def mark_published(collection: AsyncCollection, _id: Any, record_ids: Sequence[str], field: str = "outbox",
                         counter: str = "outbox_pending") -> None:
    """Remove published records; the filter makes a second removal of the same ones a no-op."""
    async with write_lock(collection, _id):
        await collection.update_one(
            {"_id": _id, **{f"{field}.{e}": {"$exists": True} for e in record_ids}},
            {"$unset": {f"{field}.{e}": "" for e in record_ids}, "$inc": {counter: -len(record_ids)}},
        )


def as_duplicate_key(exc: OperationFailure) -> OperationFailure:
    """An update that breaks a unique index is a ``DuplicateKeyError`` on MongoDB; FerretDB 1.24
    reports it as an ``InternalError`` carrying PostgreSQL's unique-violation (SQLSTATE 23505).
    Callers see ``DuplicateKeyError`` on both."""
    if isinstance(exc, DuplicateKeyError) or ("23505" not in str(exc) and "duplicate key" not in str(exc)):
        return exc
    return DuplicateKeyError(str(exc), 11000, exc.details)


def collection_of(client: AsyncMongoClient, database: str, name: str) -> AsyncCollection:
    return client[database][name]
