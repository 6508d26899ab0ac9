"""``dinamis catalogue``: ingest STAC items, generate demo items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dinamis_cli import stack

app = typer.Typer(help="The catalogue's STAC index (pgstac).", no_args_is_help=True)
console = Console(stderr=True)
ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="dev (default) or test")]


def _ingest(profile: stack.Profile, lines, total: int | None, extra: list[dict] | None = None) -> None:
    from catalogue_service.adapters.ingest import ingest, refresh_collections, upsert_collections
    from catalogue_service.adapters.pgstac import prepare
    from catalogue_service.domain.collections import DEFINITIONS, all_collections

    prepare(profile.postgres_dsn, all_collections())
    upsert_collections(profile.postgres_dsn, extra or [])
    columns = [TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("items", total=total)
        known = set(DEFINITIONS) | {c["id"] for c in extra or []}
        report = ingest(profile.postgres_dsn, lines, known, progress=lambda n: progress.advance(task, n))
    refresh_collections(profile.postgres_dsn)  # extents and summaries follow the items
    console.print(f"[green]added {report.added}[/], updated {report.updated}, unchanged {report.unchanged}, "
                  f"[{'red' if report.failed else 'green'}]failed {len(report.failed)}[/]")
    for line, reason in report.failed[:20]:
        console.print(f"  line {line}: {reason}")
    if len(report.failed) > 20:
        console.print(f"  … and {len(report.failed) - 20} more")


@app.command()
def ingest(items: Annotated[Path, typer.Argument(help="NDJSON file, one STAC item per line")],
           collections: Annotated[Path | None, typer.Option(
               "--collections", help="JSON: a collection, a list, or {\"collections\": [...]}, upserted first")] = None,
           profile: ProfileOpt = None) -> None:
    """Check and upsert STAC items by (collection, id); a bad item is reported, never fatal."""
    from catalogue_service.domain.collections import read_collections

    if not items.exists():
        raise typer.BadParameter(f"{items} does not exist")
    extra = None
    if collections is not None:
        try:
            extra = read_collections(json.loads(collections.read_text()))
        except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
            raise typer.BadParameter(f"{collections}: {exc}", param_hint="--collections") from exc
    with items.open("rb") as f:
        total = sum(1 for _ in f)
    with items.open("rb") as lines:
        _ingest(stack.load_profile(profile), lines, total, extra)


@app.command()
def demo(items: Annotated[int, typer.Option("--items", help="how many")] = 3000,
         seed: int = 2026,
         out: Annotated[Path | None, typer.Option(help="write NDJSON here instead of ingesting")] = None,
         profile: ProfileOpt = None) -> None:
    """Deterministic realistic items over France and the overseas departments."""
    from catalogue_service.domain.demo import generate

    lines = (json.dumps(i) for i in generate(items, seed))
    if out is not None:
        with out.open("w") as f:
            for line in lines:
                f.write(line + "\n")
        console.print(f"wrote {items} items to {out}")
        return
    _ingest(stack.load_profile(profile), lines, items)
