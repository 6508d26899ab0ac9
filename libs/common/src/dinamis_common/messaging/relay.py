"""Relays the side effects of stored changes (events to Kafka, e-mails to SMTP), then marks them done.

Woken by the write itself: the store hands over the change it just applied, so a record leaves
within about one hop of its write with no read at all when this relay also sent the aggregate's
previous change (the usual case: one process writes an aggregate's successive changes). Otherwise
it reads the aggregate's pending changes and sends them in version order, whichever replica wrote
them. It scans for pending changes at start and every ``poll_seconds`` as a fallback (what a
killed process left), settling each first (``AggregateStore.settle``: rolled forward, or dropped if
never applied). A crash between sending and marking sends again: consumers are idempotent on the
CloudEvent id.

Failures are classified (``failures.classify``): an outage of the target (Kafka, SMTP 4xx) holds
that aggregate's changes, in order, with a backoff of its own, while other aggregates flow; a
record that can never be sent (too large for the broker, refused recipient) is **quarantined**: kept in the change under
``<field>_quarantine`` with its reason, logged, counted, and every other record keeps flowing. An
unexplained error counts as permanent after ``max_attempts`` tries of the same record.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate

from dinamis_common.background import cancelled
from dinamis_common.messaging import failures
from dinamis_common.messaging.outbox import OUTBOX, AggregateStore, Verdict

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        stores: Sequence[AggregateStore],
        publish: Publish,
        poll_seconds: float = 2.0,
        after_publish: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        concurrency: int = 32,
        field: str = OUTBOX,
        max_attempts: int = 5,
        sweep_seconds: float = 3600.0,
        meter: metrics.Meter | None = None,
    ) -> None:
        """``field``: which side effect of the changes this relay sends (events by default; a service
        may keep others, e-mails say, the same way with a relay of their own)."""
        self.field = field
        self.stores = list(stores)
        self._publish = publish
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._hints: dict[tuple[int, Any], tuple[AggregateStore, list[dict[str, Any]]]] = {}
        self._sent_up_to: OrderedDict[tuple[int, Any], int] = OrderedDict()  # aggregate -> last version sent
        self._attempts: dict[str, int] = {}
        self._held: dict[tuple[int, Any], tuple[float, float]] = {}  # aggregate -> (due, backoff)
        self._marking: set[asyncio.Task[None]] = set()  # "sent" marks still being written
        self._task: asyncio.Task[None] | None = None
        self._after_publish = after_publish  # test hook: runs between publish and marking
        self._gate = asyncio.Semaphore(concurrency)
        self.published = 0
        self.quarantined = 0
        meter = meter or metrics.get_meter("dinamis.relay")
        self._published_counter = meter.create_counter(
            "dinamis.relay.published", description="records relayed (events or e-mails)")
        self._quarantine_counter = meter.create_counter(
            "dinamis.relay.quarantined", description="records that can never be sent, set aside with their reason")

    def add(self, store: AggregateStore) -> None:
        self.stores.append(store)

    def wake(self, store: AggregateStore, change: dict[str, Any]) -> None:
        """Called by the store after it applied ``change``."""
        if change.get(f"{self.field}_pending"):
            self._hints.setdefault((id(store), change["aggregate"]), (store, []))[1].append(change)
            self._wake.set()

    # -- draining ------------------------------------------------------------------------------
    async def drain_once(self) -> int:
        """Full scan of every store (start-up and fallback)."""
        await self.marked()  # what this relay sent is not found pending again
        sent = 0
        for store in self.stores:
            while True:
                changes = await store.pending(self.field)
                per_aggregate: dict[Any, list[dict[str, Any]]] = defaultdict(list)
                for change in changes:
                    per_aggregate[change["aggregate"]].append(change)
                results = await self._gather(self._drain(store, agg, found, known_applied=False)
                                             for agg, found in per_aggregate.items())
                sent += sum(results)
                if len(changes) < 500 or not any(results):
                    break
        await self.marked()  # a scan ends with its marks written
        return sent

    async def drain_hinted(self) -> int:
        hints, self._hints = self._hints, {}
        return sum(await self._gather(self._drain(store, key[1], changes, known_applied=True)
                                      for key, (store, changes) in hints.items()))

    async def _gather(self, jobs: Any) -> list[int]:
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, int)]

    async def _drain(self, store: AggregateStore, aggregate: Any, changes: list[dict[str, Any]],
                     known_applied: bool) -> int:
        """One aggregate's pending changes, in order. A failure holds this aggregate alone (with a
        backoff of its own) while every other one keeps flowing; the scan takes it up when due."""
        key = (id(store), aggregate)
        loop = asyncio.get_running_loop()
        held = self._held.get(key)
        if held is not None and loop.time() < held[0]:
            return 0
        try:
            sent = await self._drain_now(store, aggregate, changes, known_applied)
        except Exception as exc:
            delay = min((held[1] * 2) if held else 0.5, 30.0)
            self._held[key] = (loop.time() + delay, delay)
            transient = failures.classify(exc) is failures.Failure.TRANSIENT
            log.log(logging.WARNING if transient else logging.ERROR,
                    "%s relay: %s held %.1fs: %s", self.field, aggregate, delay, failures.describe(exc),
                    exc_info=not transient)
            return 0
        self._held.pop(key, None)
        return sent

    def next_due(self) -> float | None:
        """When the first held aggregate may be tried again (loop time), if any is held."""
        return min((until for until, _ in self._held.values()), default=None)

    async def _drain_now(self, store: AggregateStore, aggregate: Any, changes: list[dict[str, Any]],
                         known_applied: bool) -> int:
        key = (id(store), aggregate)
        changes = sorted(changes, key=lambda c: c["version"])
        async with self._gate:
            last = self._sent_up_to.get(key, 0)
            in_sequence = all(c["version"] == last + 1 + i for i, c in enumerate(changes))
            if known_applied and not in_sequence:
                # others' changes may come first: take this aggregate's pending changes in order
                hinted = {c["_id"] for c in changes}
                await self.marked()
                changes = await store.pending(self.field, aggregate=aggregate)
                verified = hinted
            else:
                verified = {c["_id"] for c in changes} if known_applied else set()
            sent = 0
            for change in changes:
                if change["_id"] not in verified:
                    verdict = await store.settle(change)
                    if verdict is Verdict.WAIT:
                        break
                    if verdict is Verdict.ABANDONED:
                        continue
                sent += await self._send_change(store, change)
                self._sent_up_to[key] = change["version"]
                self._sent_up_to.move_to_end(key)
                while len(self._sent_up_to) > 100_000:
                    self._sent_up_to.popitem(last=False)
            return sent

    async def _send_change(self, store: AggregateStore, change: dict[str, Any]) -> int:
        records = change.get(self.field) or {}
        quarantined: dict[str, Any] = {}
        sent = 0
        for record_id in sorted(records):  # UUIDv7 ids: the order they were made in
            record = records[record_id]
            try:
                await self._publish_in_trace(record)
            except Exception as exc:
                if not self._poison(record_id, exc):
                    # an outage: this aggregate waits, in order, and the run loop backs off; what
                    # this change already sent is not sent again (an e-mail twice is a nuisance)
                    await store.sent(change, self.field, [r for r in records if r < record_id])
                    raise
                quarantined[record_id] = {"record": record, "reason": f"{type(exc).__name__}: {exc}"[:2000],
                                          "at": datetime.now(UTC)}
                log.error("%s record %s of %s can never be sent, quarantined: %s", self.field, record_id,
                          change["_id"], exc)
                self.quarantined += 1
                self._quarantine_counter.add(1, {"field": self.field, "collection": store.collection.name})
                continue
            if self._after_publish is not None:
                await self._after_publish(record)
            sent += 1
        # marked off the path of the next records (a crash before the mark only sends them again)
        marking = asyncio.create_task(store.done(change, self.field, quarantined))
        self._marking.add(marking)
        marking.add_done_callback(self._marked)
        for record_id in records:
            self._attempts.pop(record_id, None)
        self.published += sent
        self._published_counter.add(sent, {"field": self.field, "collection": store.collection.name})
        return sent

    def _poison(self, record_id: str, exc: Exception) -> bool:
        kind = failures.classify(exc)
        if kind is failures.Failure.PERMANENT:
            return True
        if kind is failures.Failure.TRANSIENT:
            return False
        self._attempts[record_id] = attempts = self._attempts.get(record_id, 0) + 1
        return attempts >= self.max_attempts

    async def _publish_in_trace(self, record: dict[str, Any]) -> None:
        token = otel_context.attach(propagate.extract(record.get("trace") or {}))
        try:
            await self._publish(record)
        finally:
            otel_context.detach(token)

    # -- running -------------------------------------------------------------------------------
    async def run(self) -> None:
        backoff = 0.1
        scan = True  # at start: whatever a killed predecessor left
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.sweep_seconds
        while True:
            try:
                if scan:
                    await self.drain_once()
                else:
                    await self.drain_hinted()
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.sweep_seconds
                    for store in self.stores:
                        await store.sweep()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                level = logging.WARNING if failures.classify(exc) is failures.Failure.TRANSIENT else logging.ERROR
                log.log(level, "%s relay: %s; trying again in %.1fs", self.field, exc, backoff,
                        exc_info=level == logging.ERROR)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                scan = True  # hints taken are not lost: the scan finds their changes again
                continue
            timeout = self.poll_seconds
            if (due := self.next_due()) is not None:  # a held aggregate is retried by a scan when due
                timeout = max(0.05, min(timeout, due - loop.time()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                scan = False
            except TimeoutError:
                scan = True
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"{self.field}-relay")

    def _marked(self, task: asyncio.Task[None]) -> None:
        self._marking.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("%s relay: marking a change sent failed (it will be sent again): %s", self.field,
                        failures.describe(exc))

    async def marked(self) -> None:
        """Waits for the marks of what was sent so far."""
        if self._marking:
            await asyncio.gather(*list(self._marking), return_exceptions=True)

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
        await self.marked()
