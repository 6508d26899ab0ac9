"""bench/catalogue: our STAC API against stac-fastapi-pgstac 7.2 + pypgstac 0.10 (the reference),
same machine, same PostgreSQL server, same generated items, same queryables and indexes.

    uv run python bench/catalogue/run.py [--items 1000000] [--reps 15] [--profile test]

1. generates ``--items`` deterministic items (cached as NDJSON under .dinamis/bench/);
2. loads them into two databases: ``bench_ours`` with ``dinamis catalogue ingest``'s engine (the
   catalogue's command line, ``python -m catalogue_service.entrypoints.cli``) and
   ``bench_ref`` with ``pypgstac load --method upsert``, timing both (items/s);
3. starts our catalogue service and the reference (in its own venv, from PyPI) on them, the
   reference twice: as shipped (pgstac hydrates the items in the database) and with its
   ``USE_API_HYDRATE=true`` (stac-fastapi hydrates them, as ours does), so that ours is compared
   with the reference's best setting as well as its default;
4. runs the typical queries in turn against each, ``--reps`` times after a warm-up, and prints
   p50/p95 of each and the ratios ours/reference (≤ 1.0: ours no slower), with what pgstac's
   ``search()`` alone costs in SQL for the same search (hydrating in the database or not).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = "stac-fastapi-pgstac==7.2.0"
FRANCE = [-5.2, 41.3, 9.6, 51.1]
HERAULT = [2.9, 43.2, 4.2, 43.98]
AOI = {"type": "Polygon", "coordinates": [[[3.85, 43.58], [3.92, 43.58], [3.92, 43.63], [3.85, 43.63], [3.85, 43.58]]]}
QUERIES = {
    "département bbox + Pléiades + dates + cloud < 20 + sort by date, 50": {
        "collections": ["pleiades"], "bbox": HERAULT, "datetime": "2018-01-01T00:00:00Z/2022-12-31T23:59:59Z",
        "filter-lang": "cql2-json", "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]},
        "sortby": [{"field": "properties.datetime", "direction": "desc"}], "limit": 50},
    "small intersects AOI, 100": {"intersects": AOI, "limit": 100},
    "SPOT 6/7 of one year, cloud < 10, no space, 100": {
        "collections": ["spot-6-7"], "datetime": "2021-01-01T00:00:00Z/2021-12-31T23:59:59Z",
        "filter-lang": "cql2-json", "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
        "limit": 100},
    "France-wide Pléiades, cloud < 5, sorted by cloud then date, 100": {
        "collections": ["pleiades"], "bbox": FRANCE, "filter-lang": "cql2-json",
        "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 5]},
        "sortby": [{"field": "properties.eo:cloud_cover", "direction": "asc"},
                   {"field": "properties.datetime", "direction": "desc"}], "limit": 100},
    "bbox + CQL2 on two properties, 100": {
        "bbox": [-1.5, 46.0, 2.5, 48.5], "filter-lang": "cql2-json",
        "filter": {"op": "and", "args": [{"op": "<", "args": [{"property": "eo:cloud_cover"}, 30]},
                                         {"op": "<", "args": [{"property": "view:incidence_angle"}, 15]}]},
        "limit": 100},
}
PAGES = ("six pages of 100 by next links", {"collections": ["sentinel-2-l2a"], "limit": 100})


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def catalogue_cli(*args: str, dsn: str | None = None) -> list[dict]:
    """The catalogue service's own command line (its database's one owner), on ``dsn``: what it
    reported, one JSON object a line."""
    env = {**os.environ, **({"POSTGRES_DSN": dsn} if dsn else {})}
    done = subprocess.run([sys.executable, "-m", "catalogue_service.entrypoints.cli", *args], check=True, env=env,
                          stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def generate(path: Path, count: int) -> None:
    if path.exists() and sum(1 for _ in path.open()) == count:
        return
    tmp = path.with_suffix(".tmp")
    catalogue_cli("demo", "--items", str(count), "--seed", "1", "--out", str(tmp))
    tmp.rename(path)


def database(admin_dsn: str, name: str, fresh: bool) -> str:
    base = admin_dsn.rpartition("/")[0]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{base}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    catalogue_cli("prepare", dsn=dsn)  # same collections, queryables and indexes in both
    return dsn


def count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM pgstac.items").fetchone()[0]


def load_ours(dsn: str, path: Path) -> float:
    """``dinamis catalogue ingest``'s engine, run as the catalogue's command line: the time it
    reports for the items alone (not its start, preparation and collections' refresh)."""
    said = catalogue_cli("ingest", str(path), dsn=dsn)
    assert said[-1]["failed"] == 0, [s for s in said if "reason" in s][:5]
    return said[-1]["ingest_seconds"]


def load_reference(dsn: str, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "pypgstac"), "load", "items", str(path), "--dsn", dsn,
                    "--method", "upsert"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def reference_venv(state: Path) -> Path:
    venv = state / "reference-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), REFERENCE, "uvicorn"], check=True)
    return python


def serve(argv: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            cwd=ROOT, start_new_session=True)
    for _ in range(240):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{argv} exited; see {log}")
        time.sleep(0.5)
    raise SystemExit(f"{url} never answered; see {log}")


def server_versions(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT current_setting('server_version'), postgis_lib_version(), "
                           "pgstac.get_version()").fetchone()
    return {"postgresql": row[0], "postgis": row[1], "pgstac": row[2]}


def engine_p50(dsn: str, body: dict, hydrate_in_db: bool, reps: int) -> float:
    """pgstac's own ``search()`` for the body our service sends, timed in SQL (no HTTP, no Python
    hydration): what the engine costs, with its hydration of the items or without."""
    from catalogue_service.domain.search import to_pgstac
    from psycopg.types.json import Jsonb

    search = {**to_pgstac(body, post=True), "conf": {"context": "off", "nohydrate": not hydrate_in_db}}
    times = []
    with psycopg.connect(dsn, autocommit=True, options="-c search_path=pgstac,public") as conn:
        for rep in range(reps + 2):
            start = time.perf_counter()
            conn.execute("SELECT search(%s)::text", (Jsonb(search),)).fetchone()
            if rep >= 2:
                times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def run_query(client: httpx.Client, url: str, body: dict) -> tuple[float, int]:
    start = time.perf_counter()
    r = client.post(f"{url}/search", json=body)
    elapsed = (time.perf_counter() - start) * 1000
    r.raise_for_status()
    return elapsed, len(r.json()["features"])


def run_pages(client: httpx.Client, url: str, body: dict) -> tuple[float, int]:
    start, seen, page = time.perf_counter(), 0, client.post(f"{url}/search", json=body).json()
    for _ in range(5):
        seen += len(page["features"])
        nxt = next((link for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        page = client.post(nxt["href"], json=nxt["body"]).json() if nxt.get("method") == "POST" \
            else client.get(nxt["href"]).json()
    seen += len(page["features"])
    return (time.perf_counter() - start) * 1000, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--profile", default="test")
    parser.add_argument("--reload", action="store_true", help="reload both databases even if full")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from dinamis_cli import stack

    profile = stack.load_profile(args.profile)
    stack.start_servers(profile)
    state = profile.path("bench")
    state.mkdir(parents=True, exist_ok=True)
    items = state / f"items-{args.items}.ndjson"
    print(f"generating {args.items} items…", flush=True)
    generate(items, args.items)
    admin = profile.postgres_dsn
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
                     "items": args.items, "reference": f"{REFERENCE} + pypgstac 0.10.0"}
    ours_dsn, ref_dsn = (database(admin, n, fresh=False) for n in ("bench_ours", "bench_ref"))
    if args.reload or count(ours_dsn) != args.items or count(ref_dsn) != args.items:
        ours_dsn, ref_dsn = (database(admin, n, fresh=True) for n in ("bench_ours", "bench_ref"))
        print("loading (ours, then pypgstac load)…", flush=True)
        t_ours, t_ref = load_ours(ours_dsn, items), load_reference(ref_dsn, items)
        figures["ingest_items_per_s"] = {"ours": round(args.items / t_ours), "pypgstac_load": round(args.items / t_ref),
                                         "ratio": round(t_ref / t_ours, 2)}
    for dsn in (ours_dsn, ref_dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    python = reference_venv(state)
    pg = psycopg.conninfo.conninfo_to_dict(ref_dsn)
    ref_env = {"PGUSER": pg["user"], "PGPASSWORD": "", "PGHOST": pg["host"], "PGPORT": str(pg["port"]),
               "PGDATABASE": pg["dbname"], "POSTGRES_USER": pg["user"], "POSTGRES_PASS": "",
               "POSTGRES_HOST_READER": pg["host"], "POSTGRES_HOST_WRITER": pg["host"], "POSTGRES_PORT": str(pg["port"]),
               "POSTGRES_DBNAME": pg["dbname"], "ENABLED_EXTENSIONS": "query,sort,fields,filter,pagination"}
    figures["server"] = server_versions(ours_dsn)
    ours_port, ref_port, ref_api_port = 18090, 18091, 18092
    ours_env = {**profile.service_env("catalogue"), "POSTGRES_DSN": ours_dsn, "HTTP_PORT": str(ours_port),
                "PUBLIC_URL": f"http://127.0.0.1:{ours_port}",  # its links (next pages) lead back to it
                "KAFKA_NAMESPACE": "bench.", "LOG_LEVEL": "WARNING"}
    uvicorn = [str(python), "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app", "--factory",
               "--log-level", "warning"]
    urls = {"ours": f"http://127.0.0.1:{ours_port}/stac", "reference": f"http://127.0.0.1:{ref_port}",
            "reference_api_hydrate": f"http://127.0.0.1:{ref_api_port}"}
    sides = list(urls)
    results: dict = {}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(serve([sys.executable, "-m", "catalogue_service"], ours_env, urls["ours"], state / "ours.log"))
        procs.append(serve([*uvicorn, "--port", str(ref_port)], ref_env, f"{urls['reference']}/",
                           state / "reference.log"))
        procs.append(serve([*uvicorn, "--port", str(ref_api_port)], {**ref_env, "USE_API_HYDRATE": "true"},
                           f"{urls['reference_api_hydrate']}/", state / "reference-api-hydrate.log"))
        figures["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
        with httpx.Client(timeout=120) as client:
            for name, body in [*QUERIES.items(), PAGES]:
                runner = run_pages if name == PAGES[0] else run_query
                times: dict[str, list[float]] = {side: [] for side in sides}
                counts: dict[str, int] = {}
                for rep in range(args.reps + 2):
                    for side in sides[rep % 3:] + sides[:rep % 3]:  # each goes first as often
                        elapsed, n = runner(client, urls[side], body)
                        counts[side] = n
                        if rep >= 2:
                            times[side].append(elapsed)
                row = {side: {"p50_ms": round(statistics.median(t), 1), "p95_ms": round(pct(t, 95), 1),
                              "features": counts[side]} for side, t in times.items()}
                row["ratio_p50"] = round(row["ours"]["p50_ms"] / row["reference"]["p50_ms"], 2)
                row["ratio_p50_api_hydrate"] = round(row["ours"]["p50_ms"] / row["reference_api_hydrate"]["p50_ms"], 2)
                if runner is run_query:
                    row["engine_p50_ms"] = {"hydrated_in_db": engine_p50(ref_dsn, body, True, args.reps),
                                            "nohydrate": engine_p50(ours_dsn, body, False, args.reps)}
                results[name] = row
                print(f"{name}: " + ", ".join(f"{side} {row[side]['p50_ms']} ms (p95 {row[side]['p95_ms']})"
                                              for side in sides)
                      + f", ratios {row['ratio_p50']} / {row['ratio_p50_api_hydrate']}, features {counts}, "
                      f"engine {row.get('engine_p50_ms')}", flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["queries"] = results
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
