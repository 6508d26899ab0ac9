"""``dinamis catalogue``: ingest STAC items, generate demo items, the named archive scenes.

The catalogue's database has one owner, the catalogue service: these commands run its command
line (``python -m catalogue_service.entrypoints.cli``) on the profile's database and show what it
reports, as JSON lines, with a progress bar.

:data:`ARCHIVE_SCENES` are Airbus archive scenes at known places of France, always the same ids and
footprints: ``dinamis up`` loads them before its demo requests pick them, and the test kit
(``dinamis_testkit.archive``) before tests and benchmarks submit archive requests over them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
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
ITEM_EXTENSIONS = [f"https://stac-extensions.github.io/{name}/schema.json" for name in (
    "eo/v2.0.0", "view/v1.1.0", "processing/v1.2.0", "projection/v2.0.0")]


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


@dataclass(frozen=True)
class ArchiveScene:
    """An ``airbus-archive`` STAC item at a known place: a square ``km`` wide centred on (lon, lat)."""

    id: str
    place: str
    platform: str  # pleiades-1a/1b → mission "pleiades"; spot-6/7 → "spot-6-7"
    lon: float
    lat: float
    km: float
    acquired_at: datetime
    cloud_cover: float
    incidence_angle: float

    @property
    def mission(self) -> str:
        return "pleiades" if self.platform.startswith("pleiades") else "spot-6-7"

    @property
    def footprint(self) -> dict[str, Any]:
        return square(self.lon, self.lat, self.km)

    def stac_item(self) -> dict[str, Any]:
        ring = self.footprint["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        spot = self.mission == "spot-6-7"
        return {
            "type": "Feature", "stac_version": "1.1.0", "stac_extensions": ITEM_EXTENSIONS,
            "id": self.id, "collection": "airbus-archive",
            "geometry": self.footprint, "bbox": [min(xs), min(ys), max(xs), max(ys)],
            "properties": {
                "datetime": self.acquired_at.isoformat().replace("+00:00", "Z"), "title": self.place,
                "platform": self.platform, "constellation": "spot" if spot else "pleiades",
                "instruments": ["naomi" if spot else "hiri"], "gsd": 1.5 if spot else 0.5,
                "eo:cloud_cover": self.cloud_cover, "view:incidence_angle": self.incidence_angle,
                "processing:level": "L1A", "proj:code": "EPSG:4326",
            },
            "assets": {}, "links": [],
        }


def square(lon: float, lat: float, km: float) -> dict[str, Any]:
    """A GeoJSON Polygon about ``km`` × ``km`` centred on (lon, lat) (six decimals)."""
    dlat = km / 111.32 / 2
    dlon = km / (111.32 * math.cos(math.radians(lat))) / 2
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat]]
    ring = [[round(x, 6), round(y, 6)] for x, y in ring]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, minute=42, tzinfo=UTC)


ARCHIVE_SCENES: tuple[ArchiveScene, ...] = (
    ArchiveScene("airbus-archive-montpellier-littoral-20230614", "Montpellier littoral", "pleiades-1a",
                 3.88, 43.52, 20, _at("2023-06-14"), 2.5, 8.1),
    ArchiveScene("airbus-archive-rade-de-brest-20220903", "Rade de Brest", "spot-7", -4.45, 48.33, 60,
                 _at("2022-09-03"), 6.0, 12.4),
    ArchiveScene("airbus-archive-guadeloupe-mangroves-20240218", "Guadeloupe mangroves", "pleiades-1b",
                 -61.55, 16.25, 20, _at("2024-02-18"), 11.0, 14.9),
    ArchiveScene("airbus-archive-camargue-20230721", "Camargue", "pleiades-1b", 4.55, 43.5, 20,
                 _at("2023-07-21"), 0.0, 5.3),
    ArchiveScene("airbus-archive-toulouse-20240409", "Toulouse", "pleiades-1a", 1.44, 43.6, 20,
                 _at("2024-04-09"), 4.2, 18.7),
    ArchiveScene("airbus-archive-marseille-calanques-20220512", "Marseille calanques", "pleiades-1a",
                 5.45, 43.22, 20, _at("2022-05-12"), 1.0, 9.6),
    ArchiveScene("airbus-archive-grenoble-20240130", "Grenoble", "pleiades-1b", 5.72, 45.18, 20,
                 _at("2024-01-30"), 8.8, 22.0),
    ArchiveScene("airbus-archive-landes-20230826", "Forêt des Landes", "spot-6", -1.0, 44.2, 60,
                 _at("2023-08-26"), 3.1, 10.2),
)


def ingest_items(postgres_dsn: str, items: list[dict[str, Any]], timeout: float = 300) -> dict[str, Any]:
    """Ingests ``items`` through the catalogue's command line on the database of ``postgres_dsn``
    (idempotent: items already there are ``unchanged``); returns its summary. Raises
    ``RuntimeError`` saying why when the run fails or refuses an item."""
    ndjson = "".join(json.dumps(i) + "\n" for i in items)
    run = subprocess.run([sys.executable, "-m", ENTRYPOINT, "ingest", "-"], input=ndjson, text=True,
                         capture_output=True, timeout=timeout, env={**os.environ, "POSTGRES_DSN": postgres_dsn})
    said = [r for line in run.stdout.splitlines() if (r := _report(line)) is not None]
    refused = [r for r in said if "reason" in r]
    if run.returncode != 0 or refused or not said:
        raise RuntimeError(f"the catalogue's ingest failed (exit {run.returncode}): "
                           f"{refused or run.stderr.strip()[-2000:]}")
    return said[-1]


def load_archive_scenes(postgres_dsn: str) -> dict[str, Any]:
    """Makes sure every one of :data:`ARCHIVE_SCENES` is in the catalogue; returns the ingest's summary."""
    return ingest_items(postgres_dsn, [s.stac_item() for s in ARCHIVE_SCENES])


@app.command()
def scenes(profile: ProfileOpt = None) -> None:
    """The named Airbus archive scenes (demo requests pick them): ingested, or left as they are."""
    summary = load_archive_scenes(stack.load_profile(profile).postgres_dsn)
    for s in ARCHIVE_SCENES:
        console.print(f"{s.id}  {s.place} ({s.platform}, mission {s.mission})", highlight=False)
    console.print(f"[green]added {summary['added']}[/], updated {summary['updated']}, "
                  f"unchanged {summary['unchanged']}")
