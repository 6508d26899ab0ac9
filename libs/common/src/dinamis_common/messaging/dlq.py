"""What each consumer group set aside in its dead-letter topic ``<group>.dlq``, and what of it was replayed.

A replay re-sends records to ``<group>.retry`` with their attempts reset, so only that group
handles them again (its consumers are idempotent on the CloudEvent id). What was replayed is
recorded as the committed offsets of a consumer group of its own per DLQ, ``<group>.dlq.replayed``:
per partition, the offset before which everything was replayed, plus (in the commit's metadata)
the offsets replayed one by one beyond it. What is not replayed is *waiting*; a second replay of
the same records sends nothing. A crash between sending and recording may send a record twice,
which the group's idempotence absorbs.

:class:`DeadLetters` reads one group's DLQ and replays it (``dinamis dlq``); :func:`dead_letters`
counts several groups' at once; :class:`DlqWaiting` exports those counts as the gauge
``dinamis.consumer.dlq_waiting`` of a service. Nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from dinamis_common.background import cancelled
from dinamis_common.messaging.broker import NO_AUTH, KafkaAuth
from dinamis_common.messaging.consumer import H_ATTEMPTS, H_NOT_BEFORE, dlq_topic, retry_topic

log = logging.getLogger(__name__)

H_REPLAYED_FROM = "x-dinamis-replayed-from"
H_REPLAYED_AT = "x-dinamis-replayed-at"
MAX_METADATA = 4000  # the broker's offset.metadata.max.bytes is 4096 by default


def replay_group(group: str) -> str:
    """The consumer group whose committed offsets say what of ``<group>.dlq`` was replayed."""
    return f"{group}.dlq.replayed"


@dataclass
class Partition:
    tp: TopicPartition
    start: int  # first offset still kept (retention)
    end: int  # next offset to be written
    done: int = 0  # every offset below was replayed
    singles: set[int] = field(default_factory=set)  # offsets >= done replayed one by one

    @property
    def first(self) -> int:
        return max(self.done, self.start)

    @property
    def total(self) -> int:
        return self.end - self.start

    @property
    def waiting(self) -> int:
        return self.end - self.first - len({o for o in self.singles if self.first <= o < self.end})

    def mark(self, offsets: set[int]) -> None:
        self.singles |= offsets
        self.done = max(self.done, self.start)
        while self.done in self.singles:
            self.done += 1
        self.singles = {o for o in self.singles if o >= self.done}

    def metadata(self) -> str:
        text = json.dumps({"replayed": sorted(self.singles)}, separators=(",", ":")) if self.singles else ""
        if len(text) > MAX_METADATA:
            raise RuntimeError(f"too many records replayed one by one in {self.tp.topic}[{self.tp.partition}]: "
                               "replay the rest with --all")
        return text


class DeadLetters:
    """One group's DLQ on one cluster: its partitions, the records still waiting, replays."""

    def __init__(self, bootstrap: str, group: str, auth: KafkaAuth = NO_AUTH) -> None:
        self.bootstrap, self.group, self.topic, self.auth = bootstrap, group, dlq_topic(group), auth
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=replay_group(group),
                                         enable_auto_commit=False, client_id="dinamis-dlq", **auth.client_options())
        self.partitions: dict[TopicPartition, Partition] = {}

    async def __aenter__(self) -> DeadLetters:
        try:
            await self.consumer.start()
            async with kafka_admin(self.bootstrap, auth=self.auth) as admin:
                # listed first: asking a broker that auto-creates topics about a missing one creates it
                if self.topic not in await admin.list_topics():
                    raise LookupError(f"no topic {self.topic}")
                self.partitions = (await _partitions(admin, self.consumer, [self.group]))[self.group]
        except BaseException:
            await self.consumer.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    @property
    def waiting(self) -> int:
        return sum(p.waiting for p in self.partitions.values())

    @property
    def total(self) -> int:
        return sum(p.total for p in self.partitions.values())

    async def records(self, limit_per_partition: int | None = None, timeout: float = 30.0) -> list[ConsumerRecord]:
        """The records still waiting, oldest first (at most ``limit_per_partition`` of each)."""
        wanted: dict[TopicPartition, int] = {}
        for tp, part in self.partitions.items():
            if part.waiting:
                self.consumer.seek(tp, part.first)
                wanted[tp] = part.end
        found: list[ConsumerRecord] = []
        taken: dict[TopicPartition, int] = dict.fromkeys(wanted, 0)
        deadline = time.monotonic() + timeout
        while wanted and time.monotonic() < deadline:
            batch = await self.consumer.getmany(*wanted, timeout_ms=500)
            for tp, records in batch.items():
                part = self.partitions[tp]
                for record in records:
                    if record.offset >= part.end or (limit_per_partition and taken[tp] >= limit_per_partition):
                        wanted.pop(tp, None)
                        break
                    if record.offset not in part.singles:
                        found.append(record)
                        taken[tp] += 1
            for tp in list(wanted):
                if await self.consumer.position(tp) >= wanted[tp]:
                    wanted.pop(tp)
        if wanted:
            raise TimeoutError(f"could not read {self.topic} to its end in {timeout:.0f}s")
        return sorted(found, key=lambda r: (r.timestamp, r.partition, r.offset))

    async def replay(self, records: list[ConsumerRecord]) -> list[ConsumerRecord]:
        """Send ``records`` to ``<group>.retry`` with attempts reset, then record them as replayed."""
        if not records:
            return []
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                                    client_id="dinamis-dlq", **self.auth.client_options())
        try:
            await producer.start()
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            for record in records:
                headers = [(k, v) for k, v in record.headers if k not in (H_ATTEMPTS, H_NOT_BEFORE)]
                headers += [(H_ATTEMPTS, b"0"), (H_REPLAYED_AT, now.encode()),
                            (H_REPLAYED_FROM, f"{record.topic}[{record.partition}]@{record.offset}".encode())]
                await producer.send_and_wait(retry_topic(self.group), record.value, key=record.key, headers=headers)
        finally:
            await producer.stop()
        by_partition: dict[TopicPartition, set[int]] = {}
        for record in records:
            by_partition.setdefault(TopicPartition(record.topic, record.partition), set()).add(record.offset)
        offsets = {}
        for tp, sent in by_partition.items():
            part = self.partitions[tp]
            part.mark(sent)
            offsets[tp] = OffsetAndMetadata(part.done, part.metadata())
        await self.consumer.commit(offsets)
        return records


@asynccontextmanager
async def kafka_admin(bootstrap: str, client_id: str = "dinamis-dlq",
                      auth: KafkaAuth = NO_AUTH) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id, **auth.client_options())
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


async def dead_letters(bootstrap: str, groups: Iterable[str] | None = None, client_id: str = "dinamis-dlq",
                       auth: KafkaAuth = NO_AUTH) -> dict[str, dict[TopicPartition, Partition]]:
    """Each group's DLQ partitions, by group: ``groups`` (those whose DLQ exists), or every group
    that has a DLQ on the cluster."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id=client_id, **auth.client_options())
    try:
        await consumer.start()
        async with kafka_admin(bootstrap, client_id, auth) as admin:
            dlqs = {t.removesuffix(".dlq") for t in await admin.list_topics() if t.endswith(".dlq")}
            chosen = sorted(dlqs if groups is None else dlqs.intersection(groups))
            return await _partitions(admin, consumer, chosen)
    finally:
        await consumer.stop()


async def _partitions(admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer,
                      groups: list[str]) -> dict[str, dict[TopicPartition, Partition]]:
    """Each group's DLQ partitions: offsets kept, and what its replay group recorded."""
    described = await admin.describe_topics([dlq_topic(g) for g in groups]) if groups else []
    tps = {t["topic"]: [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]] for t in described}
    every = [tp for group_tps in tps.values() for tp in group_tps]
    if every:
        consumer.assign(every)  # its metadata then knows the topics: offsets asked at once, not one by one
    starts = await consumer.beginning_offsets(every) if every else {}
    ends = await consumer.end_offsets(every) if every else {}
    out: dict[str, dict[TopicPartition, Partition]] = {}
    for group in groups:
        mine = sorted(tps.get(dlq_topic(group), []))
        committed = await admin.list_consumer_group_offsets(replay_group(group), partitions=mine) if mine else {}
        out[group] = {}
        for tp in mine:
            part = out[group][tp] = Partition(tp, starts[tp], ends[tp])
            if tp in committed and committed[tp].offset >= 0:
                part.done = committed[tp].offset
                part.singles = set(json.loads(committed[tp].metadata or "{}").get("replayed", []))
    return out


class DlqWaiting:
    """The gauge ``dinamis.consumer.dlq_waiting`` (attribute ``group``): how many records wait in
    each of ``groups``' DLQs, not replayed yet.

    A task of its own counts them every ``period`` seconds; the gauge's callback (called by the
    metric reader, where no I/O belongs) reads the last count. When Kafka does not answer, the
    miss is logged at WARNING, the last count stays and the next period tries again."""

    def __init__(self, bootstrap: str, groups: Iterable[str], meter: Meter, period: float,
                 client_id: str = "dinamis-dlq-metric", auth: KafkaAuth = NO_AUTH) -> None:
        self.bootstrap, self.groups, self.period, self.client_id = bootstrap, sorted(groups), period, client_id
        self.auth = auth
        self.waiting: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        meter.create_observable_gauge("dinamis.consumer.dlq_waiting", callbacks=[self._observe], unit="{record}",
                                      description="records waiting in the group's DLQ (not replayed)")

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"group": group}) for group, n in sorted(self.waiting.items())]

    async def refresh(self) -> None:
        """Count now (at most ``max(period, 10 s)``); raises when Kafka does not answer."""
        async with asyncio.timeout(max(self.period, 10.0)):
            found = await dead_letters(self.bootstrap, self.groups, self.client_id, self.auth)
        self.waiting.update({group: sum(p.waiting for p in parts.values()) for group, parts in found.items()})

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("DLQ sizes of %s not counted (Kafka at %s: %r); the last counts stay",
                            ", ".join(self.groups), self.bootstrap, exc)
            except Exception:  # a metric never takes the service down; the next period tries again
                log.warning("DLQ sizes of %s not counted; the last counts stay", ", ".join(self.groups),
                            exc_info=True)
            await asyncio.sleep(self.period)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="dlq-waiting")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
