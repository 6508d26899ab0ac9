"""Publishes what aggregates left in their outbox, then removes it.

Woken by the write that filled the outbox (an in-process signal), so an event leaves within
about one Kafka hop of its write; polls only as a fallback, to pick up what a crashed process
wrote but never published. A crash between publish and removal republishes the record: every
consumer is idempotent on the CloudEvent id, so the effect stays single.
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
    ) -> None:
        self.collections = list(collections)
        self._publish = publish
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._after_publish = after_publish  # test hook: runs between publish and removal
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        sent = 0
        for collection in self.collections:
            while docs := await pending_documents(collection):
                for doc in docs:
                    # event ids are UUIDv7: sorting them restores the order of the writes
                    for event_id in sorted(doc.get("outbox") or {}):
                        record = doc["outbox"][event_id]
                        await self._publish_in_trace(record)
                        if self._after_publish is not None:
                            await self._after_publish(record)
                        await mark_published(collection, doc["_id"], event_id)
                        sent += 1
                if len(docs) < 100:
                    break
        self.published += sent
        return sent

    async def _publish_in_trace(self, record: dict[str, Any]) -> None:
        token = otel_context.attach(propagate.extract(record.get("trace") or {}))
        try:
            await self._publish(record)
        finally:
            otel_context.detach(token)

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self.drain_once()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
