"""At-least-once, idempotent consumers with a retry topic and a dead-letter topic per group.

Offsets are committed only after a record was handled or set aside (never faststream's
at-most-once ``ACK_FIRST``). What a failure does depends on what happened
(:func:`dinamis_common.messaging.failures.classify`):

* **transient** (a dependency is away): the record is not acknowledged. Its partition is rewound
  to it and paused for a growing, jittered delay (capped at ``transient_max_seconds``), then the
  same record is handled again, without limit, so each aggregate's order is kept. Nothing sleeps
  inside the handler: the consumer keeps polling (its other partitions flow) and keeps its group
  membership however long the outage lasts.
* **permanent** (unreadable record, invalid payload, a refusal for good): to ``<group>.dlq`` at
  once, with its reason.
* **unknown** (a bug, something unforeseen): to ``<group>.retry`` with the attempt count and a
  not-before time, then to ``<group>.dlq`` after ``max_attempts``.

``<group>.retry`` is read by a subscriber of its own (consumer group ``<group>.retry``), never by
the live one: a record not due yet pauses only its retry partition, never the live topic. Each
group has its own retry and dead-letter topics, so two groups reading one topic never see each
other's failures. Dead-lettered records keep their value and key and carry the reason, the
attempts, the original topic/partition/offset, the group, the time of failure and the original
``ce_*`` headers; ``dinamis dlq`` lists, shows and replays them.

Offsets are committed in batches (:class:`_Offsets`), explicitly: ``{partition: offset + 1}`` of
the last record whose handling *finished* (applied, skipped as another group's type, or set
aside), never the consumer's position, which already counts a record handed to a handler still
running. A commit is sent once ``commit_interval`` passed since this subscriber's last one or
``commit_records`` records were handled since, in the background (the next record does not wait
for it); what is left is committed when ``commit_interval`` passes with nothing more, on a
partition's revocation (after the running handler finishes, so a new owner re-reads at most a
few records) and on stop. A crash loses only commits: the records handled since the last commit
are delivered again, which idempotent handlers make harmless. A record waiting in place
(transient wait, not-before) is rewound, so nothing after it on its partition finishes first, and
no commit passes it.

Handlers must be idempotent on ``event.id``: a record is redelivered after any crash, and a
replayed one comes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import metrics, trace
from pydantic import BaseModel

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.failures import Failure, PermanentError, TransientError, classify, describe

__all__ = [
    "H_ATTEMPTS", "H_FAILED_AT", "H_FAILURE", "H_GROUP", "H_NOT_BEFORE", "H_OFFSET", "H_PARTITION", "H_REASON",
    "H_TOPIC", "Handler", "PermanentError", "TransientError", "consumer_topics", "dispatch", "dlq_topic",
    "retry_topic", "subscribe",
]

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent], Awaitable[None]]

H_GROUP = "x-dinamis-group"
H_ATTEMPTS = "x-dinamis-attempts"
H_REASON = "x-dinamis-reason"
H_FAILURE = "x-dinamis-failure"
H_FAILED_AT = "x-dinamis-failed-at"
H_NOT_BEFORE = "x-dinamis-not-before"
H_TOPIC = "x-dinamis-original-topic"
H_PARTITION = "x-dinamis-original-partition"
H_OFFSET = "x-dinamis-original-offset"
_KEPT = ("content-type", "traceparent", "tracestate")

# Group membership (aiokafka heartbeats from a background task, and rejoins in the background):
# * session_timeout_ms 30 s, heartbeat every 3 s: ten heartbeats may be lost (an event loop
#   starved by a CPU-bound burst on a 2-core machine, a slow broker) before the member is declared
#   dead. aiokafka's 10 s default expired under load ("Heartbeat session expired"), causing the
#   rebalances in the middle of the load. A killed process's partitions move after 30 s at most.
# * max_poll_interval_ms 10 min: the only time counted is a handler's own run, as transient waits
#   and not-before delays pause a partition instead of sleeping in the handler, and every
#   dependency call is bounded by its own time-out (MongoDB 10 s, HTTP clients). Leaving the
#   group after 10 min only catches a handler truly stuck.
# * rebalance_timeout_ms 60 s: how long the broker waits for members to rejoin during a rebalance.
CONSUMER_OPTIONS: dict[str, Any] = {
    "session_timeout_ms": 30_000,
    "heartbeat_interval_ms": 3_000,
    "max_poll_interval_ms": 600_000,
    "rebalance_timeout_ms": 60_000,
    "auto_offset_reset": "earliest",
}
NOT_DUE_RECHECK_SECONDS = 60.0  # a not-before far ahead (clock skew) is looked at again this often
COMMIT_INTERVAL_SECONDS = 0.2  # a subscriber commits at most this often (unless COMMIT_RECORDS come sooner)
COMMIT_RECORDS = 100  # ... or once this many records were handled since its last commit
DRAIN_SECONDS = 10.0  # on stop or revocation, how long the running handler may take to finish first
COMMIT_TIMEOUT_SECONDS = 10.0  # a commit on stop or revocation gives up after this (Kafka away)


def retry_topic(group: str) -> str:
    """The retry topic of a consumer group (already namespaced), e.g. ``arbitration.cases.retry``."""
    return f"{group}.retry"


def dlq_topic(group: str) -> str:
    """The dead-letter topic of a consumer group (already namespaced), e.g. ``arbitration.cases.dlq``."""
    return f"{group}.dlq"


def consumer_topics(topic: str, group: str) -> tuple[str, str, str]:
    """Every topic a subscription of ``group`` to ``topic`` needs (to create them beforehand)."""
    return topic, retry_topic(group), dlq_topic(group)


Route = tuple[type[BaseModel], Callable[[Any, CloudEvent], Awaitable[None]]]


class _Dispatch:
    """A handler from a table of routes; ``types`` lets the consumer skip a record of another
    type by its ``ce_type`` header alone, without reading it."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.types = frozenset(self.routes)

    async def __call__(self, event: CloudEvent) -> None:
        route = self.routes.get(event.type)
        if route is not None:
            model, apply = route
            await apply(model.model_validate(event.data), event)


def dispatch(routes: Mapping[str, Route]) -> Handler:
    """A handler from a table ``event type -> (payload model, coroutine(payload, event))``.
    Other types on the topic are not this consumer's business and are skipped (tolerant
    reader); a payload that does not validate is dead-lettered."""
    return _Dispatch(routes)


def _skipped(handler: Handler, headers: Mapping[str, str]) -> bool:
    """A record of a type the handler has no route for (a record without ``ce_type`` is read,
    and dead-lettered as malformed)."""
    types = getattr(handler, "types", None)
    kind = headers.get("ce_type")
    return types is not None and kind is not None and kind not in types


class _Held(Exception):  # not an error: control flow
    """The record waits in place: its partition was rewound to it and paused."""


class _Offsets(ConsumerRebalanceListener):
    """What one subscriber (one Kafka consumer) handled, committed in batches.

    ``_done[tp]`` moves only when a record's handling finished, in the order of its partition
    (one record at a time per subscriber), so every record before it finished too; a commit sends
    these offsets explicitly. ``_held[tp]``: a record waiting in place, never committed past."""

    def __init__(self, name: str, interval: float, records: int) -> None:
        self.name, self.interval, self.records = name, interval, records
        self.consumer: Callable[[], Any] = lambda: None  # the subscriber's AIOKafkaConsumer, once started
        self._done: dict[TopicPartition, int] = {}  # next offset to read after what finished
        self._committed: dict[TopicPartition, int] = {}
        self._held: dict[TopicPartition, int] = {}
        self._counted = 0  # records handled (not skipped) since the last commit
        self._last = 0.0  # loop time of the last commit
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._dirty = asyncio.Event()  # something finished that is not committed yet
        self._full = asyncio.Event()  # ``records`` handled since the last commit
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def handle(self, message: KafkaMessage, work: Callable[[KafkaMessage], Awaitable[bool]]) -> None:
        """Run ``work`` on one record (True: handled, False: skipped), then count it as finished,
        held, or (an unexpected error) not finished and read again."""
        record = message.raw_message
        tp = TopicPartition(record.topic, record.partition)
        self._running += 1
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_when_due(), name=f"commit {self.name}")
        try:
            handled = await work(message)
        except _Held:
            self._held[tp] = record.offset
        except Exception:
            _rewind(message)  # faststream logs it; the record is read again, never committed past
            raise
        else:
            self._done[tp] = record.offset + 1
            self._held.pop(tp, None)
            self._dirty.set()
            if handled:
                self._counted += 1
                if self._counted >= self.records:
                    self._full.set()
        finally:
            self._running -= 1
            if not self._running:
                self._idle.set()

    async def _commit_when_due(self) -> None:
        loop = asyncio.get_running_loop()
        self._last = self._last or loop.time()  # the first commit too waits for the interval
        while True:
            await self._dirty.wait()
            due = self._last + self.interval - loop.time()
            if due > 0 and not self._full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), due)
            await self.commit()

    async def commit(self) -> None:
        """Commit what finished on the partitions still assigned (explicit offsets)."""
        async with self._lock:
            self._dirty.clear()
            self._full.clear()
            self._counted = 0
            self._last = asyncio.get_running_loop().time()
            consumer = self.consumer()
            if consumer is None or not hasattr(consumer, "assignment"):
                return
            assigned = consumer.assignment()
            offsets: dict[TopicPartition, int] = {}
            for tp, offset in self._done.items():
                held = self._held.get(tp)
                ready = offset if held is None else min(offset, held)
                if tp in assigned and self._committed.get(tp) != ready:
                    offsets[tp] = ready
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except Exception as exc:  # a rebalance, Kafka away: tried again with the next commit
                log.warning("%s: committing offsets failed, tried again later: %s", self.name, describe(exc))
                self._dirty.set()
                return
            self._committed.update(offsets)

    async def _drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), DRAIN_SECONDS)

    async def _finish(self) -> None:
        """Let the running handler finish (bounded), then commit what finished."""
        await self._drain()
        try:
            await asyncio.wait_for(self.commit(), COMMIT_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("%s: no commit within %.0fs; the records handled since the last one will be read again",
                        self.name, COMMIT_TIMEOUT_SECONDS)

    async def close(self) -> None:
        """On stop (no record is handed to a handler any more): the running handler finishes,
        then what finished is committed."""
        await self._drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._finish()

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._finish()
        for tp in revoked:  # their next owner (maybe this consumer again) starts from what was committed
            self._done.pop(tp, None)
            self._committed.pop(tp, None)
            self._held.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        pass


def _rewind(message: KafkaMessage) -> None:
    record = message.raw_message
    try:
        message.consumer.seek(TopicPartition(record.topic, record.partition), record.offset)
    except Exception:  # noqa: S110 - revoked or stopped meanwhile: its next owner reads it from the last commit
        pass


@dataclass
class _Origin:
    topic: str
    partition: int
    offset: int


@dataclass
class _Group:
    """One consumer group of one broker: its live handlers (by topic) and its retry subscriber."""

    broker: KafkaBroker
    name: str
    meter: metrics.Meter
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    transient_base_seconds: float
    transient_max_seconds: float
    routes: dict[str, Handler] = field(default_factory=dict)
    # (topic, partition) -> (offset waiting, consecutive transient waits): at most one per partition
    _waits: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.retried = self.meter.create_counter(
            "dinamis.consumer.retried", unit="{record}", description="records sent to the group's retry topic")
        self.dead_lettered = self.meter.create_counter(
            "dinamis.consumer.dead_lettered", unit="{record}", description="records sent to the group's DLQ")
        self.transient_waits = self.meter.create_counter(
            "dinamis.consumer.transient_waits", unit="{wait}",
            description="waits for a dependency to come back before handling the same record again")

    # -- the two subscribers ------------------------------------------------------------------
    async def live(self, message: KafkaMessage) -> bool:
        record = message.raw_message
        origin = _Origin(record.topic, record.partition, record.offset)
        return await self._process(message, self.routes[record.topic], origin, attempts=0)

    async def retry(self, message: KafkaMessage) -> bool:
        headers = message.headers
        delay = _float(headers.get(H_NOT_BEFORE)) - time.time()
        if delay > 0:
            self._hold(message, min(delay, NOT_DUE_RECHECK_SECONDS))
        topic = headers.get(H_TOPIC, "")
        origin = _Origin(topic, int(_float(headers.get(H_PARTITION), -1)), int(_float(headers.get(H_OFFSET), -1)))
        attempts = int(_float(headers.get(H_ATTEMPTS)))
        handler = self.routes.get(topic)
        if handler is None:
            exc = PermanentError(f"no handler of group {self.name} for topic {topic!r} in this process")
            await self._set_aside(message, exc, Failure.PERMANENT, origin, attempts)
            return True
        return await self._process(message, handler, origin, attempts)

    # -- what happens to one record -----------------------------------------------------------
    async def _process(self, message: KafkaMessage, handler: Handler, origin: _Origin, attempts: int) -> bool:
        """True once the record was handled or set aside, False if skipped (another type); raises
        :class:`_Held` if it waits in place."""
        record = message.raw_message
        if _skipped(handler, message.headers):
            return False
        span = trace.get_current_span()
        span.set_attribute("messaging.consumer.group.name", self.name)
        try:
            event = CloudEvent.from_record(message.headers, record.value or b"")
            span.set_attribute("cloudevents.event_id", event.id)
            span.set_attribute("cloudevents.event_type", event.type)
            await handler(event)
        except Exception as exc:
            kind = classify(exc)
            if kind is Failure.TRANSIENT:
                self._wait(message, exc, origin)
            await self._set_aside(message, exc, kind, origin, attempts + 1)
        self._waits.pop((record.topic, record.partition), None)
        return True

    async def _set_aside(self, message: KafkaMessage, exc: Exception, kind: Failure, origin: _Origin,
                         attempts: int) -> None:
        record = message.raw_message
        headers = _failure_headers(message.headers, self.name, origin, attempts, exc, kind)
        labels = {"group": self.name, "topic": origin.topic}
        if kind is Failure.PERMANENT or attempts >= self.max_attempts:
            target, counter = dlq_topic(self.name), self.dead_lettered
            log.error("%s: dead-lettering %s[%d]@%d after %d attempt(s) (%s): %s", self.name, origin.topic,
                      origin.partition, origin.offset, attempts, kind.value, headers[H_REASON])
        else:
            delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempts - 1))
            headers[H_NOT_BEFORE] = f"{time.time() + delay:.3f}"
            target, counter = retry_topic(self.name), self.retried
            log.warning("%s: %s[%d]@%d failed (attempt %d), retried in %.1fs: %s", self.name, origin.topic,
                        origin.partition, origin.offset, attempts, delay, headers[H_REASON])
        try:
            await self.broker.publish(record.value or b"", topic=target, key=record.key, headers=headers)
        except Exception as forward:  # the record must not be lost: hold it, handle it again later
            self._wait(message, forward, origin)
        counter.add(1, labels)
        self._waits.pop((record.topic, record.partition), None)

    def _wait(self, message: KafkaMessage, exc: BaseException, origin: _Origin) -> None:
        record = message.raw_message
        key = (record.topic, record.partition)
        offset, waits = self._waits.get(key, (record.offset, 0))
        waits = waits if offset == record.offset else 0
        self._waits[key] = (record.offset, waits + 1)
        delay = min(self.transient_max_seconds, self.transient_base_seconds * 2 ** waits) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        log.warning("%s: waiting %.1fs before handling %s[%d]@%d again (wait %d), a dependency is unavailable: %s",
                    self.name, delay, record.topic, record.partition, record.offset, waits + 1, describe(exc))
        self.transient_waits.add(1, {"group": self.name, "topic": origin.topic})
        self._hold(message, delay)

    def _hold(self, message: KafkaMessage, seconds: float) -> None:
        """Rewind the record's partition to it and pause that partition only for ``seconds``;
        raises :class:`_Held` (nothing is committed past the record)."""
        record = message.raw_message
        consumer = getattr(message, "consumer", None)
        if consumer is None or not hasattr(consumer, "pause"):
            raise _Held()  # not a real consumer (in-memory test broker): nothing to rewind
        tp = TopicPartition(record.topic, record.partition)
        consumer.pause(tp)
        consumer.seek(tp, record.offset)
        asyncio.get_running_loop().call_later(seconds, _resume, consumer, tp)
        raise _Held()


def _resume(consumer: Any, tp: TopicPartition) -> None:
    try:
        consumer.resume(tp)
    except Exception:  # noqa: S110 - revoked or stopped meanwhile: its new owner reads it again
        pass


def _float(value: str | None, default: float = 0.0) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _failure_headers(headers: Mapping[str, str], group: str, origin: _Origin, attempts: int, exc: BaseException,
                     kind: Failure) -> dict[str, str]:
    kept = {k: v for k, v in headers.items() if k.startswith("ce_") or k in _KEPT}
    return {
        **kept,
        H_GROUP: group,
        H_ATTEMPTS: str(attempts),
        H_REASON: describe(exc),
        H_FAILURE: kind.value,
        H_FAILED_AT: datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        H_TOPIC: origin.topic,
        H_PARTITION: str(origin.partition),
        H_OFFSET: str(origin.offset),
    }


async def _raw_body(message: Any) -> bytes:
    return message.body


async def _tolerant_parser(record: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """faststream decodes every header as UTF-8: a record with a header that is not (or has no
    value) would fail before the handler and come back for ever. Such headers are read with
    replacement characters instead, so the record is handled or dead-lettered like any other."""
    try:
        return await original(record)
    except (UnicodeDecodeError, AttributeError):
        record.headers = tuple((k, (v or b"").decode(errors="replace").encode()) for k, v in record.headers or ())
        return await original(record)


_GROUPS_ATTRIBUTE = "_dinamis_consumer_groups"  # kept on the broker: they live and die together


def subscribe(
    broker: KafkaBroker,
    topic: str,
    group: str,
    handler: Handler,
    *,
    meter: metrics.Meter | None = None,
    max_attempts: int = 3,
    retry_base_seconds: float = 1.0,
    retry_max_seconds: float = 300.0,
    transient_base_seconds: float = 0.5,
    transient_max_seconds: float = 30.0,
    commit_interval: float = COMMIT_INTERVAL_SECONDS,
    commit_records: int = COMMIT_RECORDS,
) -> None:
    """Handle the CloudEvents of ``topic`` in consumer ``group`` (both already namespaced).

    Registers the live subscriber and, once per group, the subscriber of ``<group>.retry``. The
    topics of :func:`consumer_topics` must exist before the broker starts (created from the
    topic table, or with ``ensure_topics``). ``meter``: the service's, for the counters.
    ``commit_interval`` (seconds) and ``commit_records``: how often each subscriber commits."""
    groups: dict[str, _Group] = broker.__dict__.setdefault(_GROUPS_ATTRIBUTE, {})
    state = groups.get(group)
    if state is None:
        state = groups[group] = _Group(
            broker, group, meter or metrics.get_meter("dinamis.consumer"), max_attempts, retry_base_seconds,
            retry_max_seconds, transient_base_seconds, transient_max_seconds)
        retried = _Offsets(retry_topic(group), commit_interval, commit_records)

        async def consume_retry(body: Any, message: KafkaMessage) -> None:
            await retried.handle(message, state.retry)

        consume_retry.__name__ = f"retry_{group.replace('.', '_')}"
        _register(broker, retry_topic(group), retry_topic(group), retried, consume_retry)
    if topic in state.routes:
        raise ValueError(f"group {group} already handles {topic}")
    state.routes[topic] = handler
    live = _Offsets(f"{group} {topic}", commit_interval, commit_records)

    async def consume(body: Any, message: KafkaMessage) -> None:
        await live.handle(message, state.live)

    consume.__name__ = f"consume_{topic.replace('.', '_')}"
    _register(broker, topic, group, live, consume)


def _register(broker: KafkaBroker, topic: str, group: str, offsets: _Offsets,
              consume: Callable[[Any, KafkaMessage], Awaitable[None]]) -> None:
    """One subscriber whose offsets only ``offsets`` commits (``AckPolicy.MANUAL``: faststream
    neither commits nor seeks, and auto-commit is off); it commits what finished when its
    partitions are revoked (its rebalance listener) and before its consumer stops."""
    # the decoder leaves the body alone: we parse the CloudEvent ourselves, so an unreadable one is
    # dead-lettered instead of failing in faststream
    subscriber = broker.subscriber(topic, group_id=group, parser=_tolerant_parser, decoder=_raw_body,
                                   ack_policy=AckPolicy.MANUAL, listener=offsets, **CONSUMER_OPTIONS)
    subscriber(consume)
    offsets.consumer = lambda: subscriber.consumer
    stop = subscriber.stop

    async def commit_then_stop() -> None:
        subscriber.running = False  # no further record is handed to a handler
        await offsets.close()
        await stop()

    subscriber.stop = commit_then_stop  # type: ignore[method-assign]
