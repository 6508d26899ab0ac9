"""``dinamis dlq``: what each consumer group set aside (``<group>.dlq``), and sending it back.

``replay`` re-sends records to ``<group>.retry`` with their attempts reset, so only that group
handles them again (its consumers are idempotent on the CloudEvent id). What was replayed is
recorded as the committed offsets of a consumer group of its own per DLQ, ``<group>.dlq.replayed``:
per partition, the offset before which everything was replayed, plus (in the commit's metadata)
the offsets replayed one by one beyond it. ``list`` counts what remains; a second replay of the
same records sends nothing. A crash between sending and recording may send a record twice, which
the group's idempotence absorbs.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from dinamis_common.messaging.consumer import (
    H_ATTEMPTS,
    H_FAILED_AT,
    H_FAILURE,
    H_NOT_BEFORE,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_TOPIC,
    dlq_topic,
    retry_topic,
)
from rich.console import Console
from rich.table import Table

from dinamis_cli import stack
from dinamis_cli.stack.process import run_sync

app = typer.Typer(help="Dead-letter topics: list, show and replay what consumer groups set aside.",
                  no_args_is_help=True)
console = Console(stderr=True)

ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="dev (default) or test; env DINAMIS_PROFILE")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
GroupArg = Annotated[str, typer.Argument(help="consumer group (e.g. arbitration.cases) or its DLQ topic")]

H_REPLAYED_FROM = "x-dinamis-replayed-from"
H_REPLAYED_AT = "x-dinamis-replayed-at"
MAX_METADATA = 4000  # the broker's offset.metadata.max.bytes is 4096 by default


def replay_group(group: str) -> str:
    """The consumer group whose committed offsets say what of ``<group>.dlq`` was replayed."""
    return f"{group}.dlq.replayed"


def _group(name: str) -> str:
    return name.removesuffix(".dlq")


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

    def __init__(self, bootstrap: str, group: str) -> None:
        self.bootstrap, self.group, self.topic = bootstrap, group, dlq_topic(group)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=replay_group(group),
                                         enable_auto_commit=False, client_id="dinamis-dlq")
        self.partitions: dict[TopicPartition, Partition] = {}

    async def __aenter__(self) -> DeadLetters:
        try:
            await self.consumer.start()
            async with _admin(self.bootstrap) as admin:
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
                                    client_id="dinamis-dlq")
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
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="dinamis-dlq")
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


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


def _describe(record: ConsumerRecord) -> dict[str, Any]:
    h = {k: v.decode(errors="replace") for k, v in record.headers}
    return {
        "dlq_partition": record.partition, "dlq_offset": record.offset,
        "id": h.get("ce_id"), "type": h.get("ce_type"), "subject": h.get("ce_subject"),
        "reason": h.get(H_REASON), "failure": h.get(H_FAILURE), "attempts": int(h.get(H_ATTEMPTS, "0") or 0),
        "topic": h.get(H_TOPIC), "partition": _int(h.get(H_PARTITION)), "offset": _int(h.get(H_OFFSET)),
        "failed_at": h.get(H_FAILED_AT) or datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        "replayed_before": h.get(H_REPLAYED_FROM),
    }


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _bootstrap(profile: str | None) -> str:
    return stack.load_profile(profile).kafka_bootstrap


def _run(make, bootstrap: str):
    try:
        return run_sync(make)
    except LookupError as exc:
        console.print(f"[red]{exc}[/] on {bootstrap}: `dinamis dlq list` names the groups that have one")
        raise typer.Exit(1) from exc
    except (KafkaError, OSError) as exc:
        console.print(f"[red]Kafka at {bootstrap} did not answer ({exc}): is the stack up? `dinamis up`[/]")
        raise typer.Exit(2) from exc


@app.command("list")
def list_(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Each dead-letter topic: records waiting (not replayed yet), dead-lettered in all, replayed."""
    bootstrap = _bootstrap(profile)

    async def collect() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="dinamis-dlq")
        try:
            await consumer.start()
            async with _admin(bootstrap) as admin:
                groups = sorted(_group(t) for t in await admin.list_topics() if t.endswith(".dlq"))
                found = await _partitions(admin, consumer, groups)
        finally:
            await consumer.stop()
        rows = []
        for group, parts in found.items():
            waiting, total = sum(p.waiting for p in parts.values()), sum(p.total for p in parts.values())
            rows.append({"group": group, "topic": dlq_topic(group), "waiting": waiting, "dead_lettered": total,
                         "replayed": total - waiting})
        return rows

    rows = _run(collect, bootstrap)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"dead-letter topics on {bootstrap}")
    for col, justify in (("group", "left"), ("waiting", "right"), ("dead-lettered", "right"), ("replayed", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(r["group"], f"[red]{r['waiting']}[/]" if r["waiting"] else "0", str(r["dead_lettered"]),
                      str(r["replayed"]))
    Console().print(table)


@app.command()
def show(group: GroupArg, limit: Annotated[int, typer.Option(help="at most this many records", min=1)] = 20,
         profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """The records of a group's DLQ not replayed yet, oldest first: event, reason, attempts, origin."""
    bootstrap, group = _bootstrap(profile), _group(group)

    async def collect() -> tuple[int, list[dict[str, Any]]]:
        async with DeadLetters(bootstrap, group) as dl:
            return dl.waiting, [_describe(r) for r in await dl.records(limit_per_partition=limit)][:limit]

    waiting, rows = _run(collect, bootstrap)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{dlq_topic(group)}: {waiting} waiting" + (f", the first {len(rows)}" if waiting > len(rows)
                                                                     else ""))
    for col in ("failed at", "event id", "type", "subject", "reason", "attempts", "origin"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["failed_at"], r["id"] or "-", r["type"] or "-", r["subject"] or "-", r["reason"] or "-",
                      str(r["attempts"]), f"{r['topic']}[{r['partition']}]@{r['offset']}")
    Console().print(table)


@app.command()
def replay(group: GroupArg,
           ids: Annotated[list[str] | None, typer.Option("--id", help="CloudEvent id to replay (repeatable)")] = None,
           replay_all: Annotated[bool, typer.Option("--all", help="every record waiting")] = False,
           profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Send records back to their group (through <group>.retry, attempts reset) and record it."""
    if bool(ids) == replay_all:
        raise typer.BadParameter("give --id CE_ID (one or more) or --all")
    bootstrap, group = _bootstrap(profile), _group(group)

    async def run() -> tuple[list[dict[str, Any]], int]:
        async with DeadLetters(bootstrap, group) as dl:
            waiting = await dl.records()
            chosen = waiting if replay_all else [r for r in waiting if dict(r.headers).get("ce_id", b"").decode()
                                                 in set(ids or ())]
            sent = await dl.replay(chosen)
            return [_describe(r) for r in sent], dl.waiting

    sent, left = _run(run, bootstrap)
    missing = sorted(set(ids or ()) - {r["id"] for r in sent})
    if as_json:
        print(json.dumps({"group": group, "to": retry_topic(group), "replayed": sent, "not_waiting": missing,
                          "waiting": left}, indent=2))
    elif sent:
        console.print(f"[green]replayed {len(sent)}[/] record(s) to {retry_topic(group)}: "
                      f"{', '.join(r['id'] or '?' for r in sent)}; {left} still waiting")
    else:
        console.print(f"nothing to replay in {dlq_topic(group)} ({left} waiting)")
    if missing:
        console.print(f"[yellow]not waiting in {dlq_topic(group)} (unknown or replayed already): "
                      f"{', '.join(missing)}[/]")
        raise typer.Exit(1)
