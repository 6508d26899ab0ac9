"""``dinamis catalogue``: ingest STAC items, generate demo items.

The catalogue's database has one owner, the catalogue service: these commands run its command
line (``python -m catalogue_service.entrypoints.cli``) on the profile's database and show what it
reports, as JSON lines, with a progress bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dinamis_cli import stack

app = typer.Typer(help="The catalogue's STAC index (pgstac).", no_args_is_help=True)
console = Console(stderr=True)
ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="dev (default) or test")]
ENTRYPOINT = "catalogue_service.entrypoints.cli"


def _report(line: str) -> dict[str, Any] | None:
    try:
        said = json.loads(line)
    except ValueError:
        return None
    return said if isinstance(said, dict) else None


def _run(profile: stack.Profile, args: list[str], total: int | None) -> None:
    """Runs the catalogue's command line on ``profile``'s database; shows its progress and report."""
    env = {**os.environ, "POSTGRES_DSN": profile.postgres_dsn}
    failed: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    columns = [TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("items", total=total)
        with subprocess.Popen([sys.executable, "-m", ENTRYPOINT, *args], env=env, stdout=subprocess.PIPE,
                              text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                said = _report(line)
                if said is None:  # not one of its reports: show it as it is
                    console.print(line.rstrip(), markup=False, highlight=False)
                    continue
                if "progress" in said:
                    progress.advance(task, said["progress"])
                elif "reason" in said:
                    failed.append(said)
                else:
                    summary = said
    if proc.returncode != 0:
        raise typer.Exit(proc.returncode)  # the catalogue said why on stderr
    console.print(f"[green]added {summary['added']}[/], updated {summary['updated']}, "
                  f"unchanged {summary['unchanged']}, [{'red' if failed else 'green'}]failed {len(failed)}[/]")
    for f in failed[:20]:
        console.print(f"  line {f['line']}: {f['reason']}")
    if len(failed) > 20:
        console.print(f"  … and {len(failed) - 20} more")


@app.command()
def ingest(items: Annotated[Path, typer.Argument(help="NDJSON file, one STAC item per line")],
           collections: Annotated[Path | None, typer.Option(
               "--collections", help="JSON: a collection, a list, or {\"collections\": [...]}, upserted first")] = None,
           profile: ProfileOpt = None) -> None:
    """Check and upsert STAC items by (collection, id); a bad item is reported, never fatal."""
    if not items.exists():
        raise typer.BadParameter(f"{items} does not exist")
    with items.open("rb") as f:
        total = sum(1 for _ in f)
    extra = ["--collections", str(collections)] if collections is not None else []
    _run(stack.load_profile(profile), ["ingest", str(items), *extra], total)


@app.command()
def demo(items: Annotated[int, typer.Option("--items", help="how many")] = 3000,
         seed: int = 2026,
         out: Annotated[Path | None, typer.Option(help="write NDJSON here instead of ingesting")] = None,
         profile: ProfileOpt = None) -> None:
    """Deterministic realistic items over France and the overseas departments."""
    args = ["demo", "--items", str(items), "--seed", str(seed)]
    if out is not None:
        subprocess.run([sys.executable, "-m", ENTRYPOINT, *args, "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
        console.print(f"wrote {items} items to {out}")
        return
    _run(stack.load_profile(profile), args, items)
