"""``dinamis dlq``: what each consumer group set aside (``<group>.dlq``), and sending it back.

``replay`` re-sends records to ``<group>.retry`` with their attempts reset, so only that group
handles them again; what was replayed is recorded beside the DLQ (``<group>.dlq.replayed``, see
:mod:`dinamis_common.messaging.dlq`). ``list`` counts what remains; a second replay of the same
records sends nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from dinamis_common.messaging.broker import KafkaAuth
from dinamis_common.messaging.consumer import (
    H_ATTEMPTS,
    H_FAILED_AT,
    H_FAILURE,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_TOPIC,
    dlq_topic,
    retry_topic,
)
from dinamis_common.messaging.dlq import H_REPLAYED_FROM, DeadLetters, dead_letters
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


def _group(name: str) -> str:
    return name.removesuffix(".dlq")


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


def _auth(profile: str | None) -> KafkaAuth:
    """The profile's Kafka administrator (every group's DLQ and replay group), none on PLAINTEXT."""
    from dinamis_cli.stack.servers import kafka_auth

    return kafka_auth(stack.load_profile(profile))


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
        found = await dead_letters(bootstrap, auth=_auth(profile))
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
        async with DeadLetters(bootstrap, group, _auth(profile)) as dl:
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
        async with DeadLetters(bootstrap, group, _auth(profile)) as dl:
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
