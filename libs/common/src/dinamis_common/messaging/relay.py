"""Publishes what aggregates left in their outbox, then removes it.

Woken by the write that filled the outbox (an in-process signal naming the aggregate), so an
event leaves within about one Kafka hop of its write and the relay reads only that document
(by ``_id``: cheap everywhere, FerretDB included). It scans for pending outboxes only at
start and every ``poll_seconds`` as a fallback, to pick up what a crashed process wrote but
never published. A crash between publish and removal republishes the record: every consumer
is idempotent on the CloudEvent id, so the effect stays single.

Aggregates are drained concurrently; one aggregate's events leave in the order written
(UUIDv7 ids sort by time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from pymongo.asynchronous.collection import AsyncCollection

from dinamis_common.messaging.outbox import mark_published, pending_documents

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        collections: Sequence[AsyncCollection],
        publish: Publish,
        poll_seconds: float = 2.0,
        after_publish: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        concurrency: int = 32,
        field: str = "outbox",
        counter: str = "outbox_pending",
    ) -> None:
        """``field`` / ``counter``: the map of records and its pending count in each document (the
        event outbox by default; a service may keep other side effects, e-mails say, the same way)."""
        self.field, self.counter = field, counter
        self.collections = list(collections)
        self._publish = publish
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._hints: dict[str, tuple[AsyncCollection, set[Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._after_publish = after_publish  # test hook: runs between publish and removal
        self._gate = asyncio.Semaphore(concurrency)
        self.published = 0

    def wake(self, collection: AsyncCollection | None = None, _id: Any = None) -> None:
        if collection is not None:
            self._hints.setdefault(collection.full_name, (collection, set()))[1].add(_id)
        self._wake.set()

    async def drain_once(self) -> int:
        """Full scan of every collection (start-up and fallback)."""
        sent = 0
        for collection in self.collections:
            while docs := await pending_documents(collection, field=self.field, counter=self.counter):
                sent += sum(await asyncio.gather(*(self._drain_document(collection, d) for d in docs)))
                if len(docs) < 100:
                    break
        return sent

    async def drain_hinted(self) -> int:
        hints, self._hints = self._hints, {}
        jobs = [self._drain_id(collection, _id) for collection, ids in hints.values() for _id in ids]
        return sum(await asyncio.gather(*jobs))

    async def _drain_id(self, collection: AsyncCollection, _id: Any) -> int:
        doc = await collection.find_one({"_id": _id}, {self.field: 1})
        return await self._drain_document(collection, doc) if doc else 0

    async def _drain_document(self, collection: AsyncCollection, doc: dict[str, Any]) -> int:
        event_ids = sorted(doc.get(self.field) or {})
        if not event_ids:
            return 0
        async with self._gate:
            for event_id in event_ids:
                record = doc[self.field][event_id]
                await self._publish_in_trace(record)
                if self._after_publish is not None:
                    await self._after_publish(record)
            await mark_published(collection, doc["_id"], event_ids, self.field, self.counter)
        self.published += len(event_ids)
        return len(event_ids)

    async def _publish_in_trace(self, record: dict[str, Any]) -> None:
        token = otel_context.attach(propagate.extract(record.get("trace") or {}))
        try:
            await self._publish(record)
        finally:
            otel_context.detach(token)

    async def run(self) -> None:
        backoff = 0.1
        scan = True  # at start: whatever a crashed predecessor left
        while True:
            try:
                if scan:
                    self._hints.clear()
                    await self.drain_once()
                else:
                    await self.drain_hinted()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                scan = True
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                scan = False
            except TimeoutError:
                scan = True
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"{self.field}-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
