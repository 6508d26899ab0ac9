"""The catalogue's command line, its one way in besides HTTP: tools and benchmarks load its STAC
index through it and never touch its database themselves.

    python -m catalogue_service.entrypoints.cli ingest ITEMS.ndjson [--collections FILE]
    python -m catalogue_service.entrypoints.cli demo [--items N] [--seed S] [--out FILE]
    python -m catalogue_service.entrypoints.cli prepare

The database is the service's own (``POSTGRES_DSN``, read by its ``Settings``). Each run prepares
it first (pgstac schema, collections, queryables, indexes: idempotent). What happens is written to
stdout as JSON lines, for a caller to show: ``{"progress": <lines read>}`` after each batch,
``{"line": <n>, "reason": "..."}`` for each item refused (never fatal), then the summary
``{"added": …, "updated": …, "unchanged": …, "failed": …, "ingest_seconds": …, "seconds": …}`` (the
items alone; the whole run with the preparation and the collections' refresh). A usage error (missing
file, wrong ``--collections``) exits with 2 and says why on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from catalogue_service.adapters.ingest import ingest, refresh_collections, upsert_collections
from catalogue_service.adapters.pgstac import prepare
from catalogue_service.domain.collections import DEFINITIONS, all_collections, read_collections
from catalogue_service.domain.demo import generate
from catalogue_service.settings import Settings


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def load(dsn: str, lines: Iterable[str | bytes], extra: Sequence[dict[str, Any]] = ()) -> None:
    started = time.perf_counter()
    prepare(dsn, all_collections())
    upsert_collections(dsn, list(extra))
    known = set(DEFINITIONS) | {c["id"] for c in extra}
    ingesting = time.perf_counter()
    report = ingest(dsn, lines, known, progress=lambda n: _say({"progress": n}))
    ingested = time.perf_counter()
    refresh_collections(dsn)  # extents and summaries follow the items
    for line, reason in report.failed:
        _say({"line": line, "reason": reason})
    _say({"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
          "failed": len(report.failed), "ingest_seconds": round(ingested - ingesting, 3),
          "seconds": round(time.perf_counter() - started, 3)})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m catalogue_service.entrypoints.cli",
                                description="Load the catalogue's STAC index (pgstac).")
    commands = p.add_subparsers(dest="command", required=True)
    i = commands.add_parser("ingest", help="check and upsert STAC items by (collection, id)")
    i.add_argument("items", help="NDJSON file, one STAC item per line ('-': standard input)")
    i.add_argument("--collections", type=Path,
                   help='JSON: a collection, a list, or {"collections": [...]}, upserted before the items')
    d = commands.add_parser("demo", help="deterministic realistic items over France and the overseas departments")
    d.add_argument("--items", type=int, default=3000)
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--out", type=Path, help="write NDJSON here instead of ingesting")
    commands.add_parser("prepare", help="install or upgrade pgstac and the collections, nothing else")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.command == "demo" and args.out is not None:
        with args.out.open("w") as f:
            for item in generate(args.items, args.seed):
                f.write(json.dumps(item) + "\n")
        _say({"written": args.items, "out": str(args.out)})
        return
    dsn = Settings().postgres_dsn
    if args.command == "prepare":
        _say({"pgstac": prepare(dsn, all_collections())})
    elif args.command == "demo":
        load(dsn, (json.dumps(i) for i in generate(args.items, args.seed)))
    else:
        extra: list[dict[str, Any]] = []
        if args.collections is not None:
            try:
                extra = read_collections(json.loads(args.collections.read_text()))
            except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
                p.error(f"--collections {args.collections}: {exc}")
        if args.items == "-":
            load(dsn, sys.stdin.buffer, extra)
            return
        if not Path(args.items).is_file():
            p.error(f"{args.items} does not exist")
        with open(args.items, "rb") as lines:
            load(dsn, lines, extra)


if __name__ == "__main__":
    main()
