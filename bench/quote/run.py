"""bench/quote: the quote's p50 through the gateway against the catalogue search it makes, measured in
the same run, with 1,000,000 catalogue items and 10,000 pending tasking requests (issue 10's target:
quote p50 ≤ 1.5 × search p50).

    uv run python bench/quote/run.py [--items 1000000] [--pending 10000] [--reps 60] [--profile test]

1. **Catalogue.** The catalogue benchmark's generated items (``bench/catalogue/run.py``'s generator,
   cached NDJSON under the profile's ``bench/``) are loaded once, by the catalogue's own ingest, into a
   database ``bench_quote`` of the profile's PostgreSQL. For the run, the profile's catalogue service
   is restarted on that database (then on its own again, whatever happens).
2. **Pending taskings.** ``--pending`` tasking requests of a bench entity over mainland France, their
   windows in the next two months, are stored through the requests service's own repository and
   domain (``Request.submit``, with their outbox, as its intake stores them; deterministic ids, so
   a second run adds none). The running requests service's relay announces them; its pending-tasking
   projection and arbitration's cases follow from the events. The run waits until the projection
   holds them all and arbitration has opened their cases (nothing left in the background).
3. **Measure**, alternating one call of each, ``--reps`` times after a warm-up, over ``--areas``
   tasking areas across France (about 10 × 10 km, the same list for both):
   * ``POST /api/requests/quotes`` of a Pléiades tasking (the quote: eligibility, the spec, then at
     once the arbitration allowance, the catalogue search for delivered imagery and the
     pending-tasking index; then the price);
   * ``POST /stac/search`` with exactly the body the quote sends the catalogue for that area
     (``requests_service.adapters.delivered.search_body`` with the quote's arguments),
   both through the gateway with the same token; prints p50/p95 of each and the ratio of the p50s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
TARGET = 1.5
FRANCE = (-1.5, 43.5, 6.5, 49.5)  # lon/lat box inside mainland France
BENCH_PREFIX = "bench-pending-"


def _catalogue_bench() -> Any:
    spec = importlib.util.spec_from_file_location("catalogue_bench", HERE.parent / "catalogue" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def square(lon: float, lat: float, km: float) -> dict[str, Any]:
    import math

    dx, dy = km / 2 / (111.32 * math.cos(math.radians(lat))), km / 2 / 111.32
    ring = [[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy],
            [lon - dx, lat - dy]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def areas(n: int, seed: int, km: float = 10.0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [square(rng.uniform(FRANCE[0], FRANCE[2]), rng.uniform(FRANCE[1], FRANCE[3]), km) for _ in range(n)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# -- 1. the catalogue on a million items ---------------------------------------------------------------
def catalogue_database(profile: Any, items: int) -> str:
    cb = _catalogue_bench()
    state = profile.path("bench")
    state.mkdir(parents=True, exist_ok=True)
    path = state / f"items-{items}.ndjson"
    print(f"generating {items} items (cached)…", flush=True)
    cb.generate(path, items)
    dsn = cb.database(profile.postgres_dsn, "bench_quote", fresh=False)
    if cb.count(dsn) != items:
        dsn = cb.database(profile.postgres_dsn, "bench_quote", fresh=True)
        print("loading them into bench_quote (the catalogue's own ingest)…", flush=True)
        cb.load_ours(dsn, path)
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return dsn


# -- 2. pending taskings -------------------------------------------------------------------------------
async def seed_pending(profile: Any, entity_id: str, n: int) -> None:
    """``n`` tasking requests in review, stored as the intake stores them (the running service relays them)."""
    from dinamis_common.messaging.outbox import AggregateStore
    from dinamis_common.mongo import make_mongo_client
    from requests_service.adapters.repository import MongoRequestRepository
    from requests_service.domain.model import Request, Requester
    from requests_service.domain.spec import RequestSpec, Tasking

    client = make_mongo_client(profile.mongodb_uri, "bench-quote", timeout_ms=60_000)
    try:
        db = client["dinamis_requests"]
        repo = MongoRequestRepository(AggregateStore(db["requests"], changes=db["requests_changes"]))
        have = await db["requests"].count_documents({"entity_id": entity_id})
        if have >= n:
            return
        rng = random.Random(7)
        now = datetime.now(UTC).replace(microsecond=0)
        requester = Requester("bench-pending-user", entity_id, "institutional")
        started, sem = time.monotonic(), asyncio.Semaphore(16)

        async def one(i: int) -> None:
            lon, lat = rng.uniform(FRANCE[0], FRANCE[2]), rng.uniform(FRANCE[1], FRANCE[3])
            start = now + timedelta(days=rng.uniform(3, 60))
            aoi = square(lon, lat, rng.uniform(4, 20))
            spec = RequestSpec(kind="tasking", title=f"pending {i}", mission=rng.choice(["pleiades", "spot-6-7"]),
                               justification="benchmark load", aoi=aoi, area_km2=100.0,
                               tasking=Tasking(start, start + timedelta(days=rng.uniform(10, 30)), 20, 30,
                                               rng.choice(["mono", "stereo"])))
            async with sem:
                await repo.add(Request.submit(id=f"{BENCH_PREFIX}{entity_id[:8]}-{i:05d}", spec=spec,
                                              requester=requester, at=now))

        for first in range(0, n, 500):
            await asyncio.gather(*(one(i) for i in range(first, min(n, first + 500))))
            print(f"  stored {min(n, first + 500)}/{n} pending taskings ({time.monotonic() - started:.0f} s)",
                  flush=True)
    finally:
        await client.close()


async def wait_followed(profile: Any, entity_id: str, n: int, timeout: float) -> dict[str, float]:
    """Until the pending-tasking projection holds the ``n`` requests and arbitration opened their cases."""
    from dinamis_common.mongo import make_mongo_client

    client = make_mongo_client(profile.mongodb_uri, "bench-quote", timeout_ms=60_000)
    started = time.monotonic()
    prefix = f"^{BENCH_PREFIX}{entity_id[:8]}-"
    try:
        while True:
            indexed = len({d["request_id"] async for d in client["dinamis_requests"]["pending_taskings"].find(
                {"request_id": {"$regex": prefix}}, {"request_id": 1})})
            opened = await client["dinamis_arbitration"]["cases"].count_documents({"_id": {"$regex": prefix}})
            print(f"  followed: {indexed}/{n} in the pending-tasking index, {opened}/{n} cases opened "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
            if indexed >= n and opened >= n:
                return {"indexed": indexed, "cases": opened, "seconds": round(time.monotonic() - started)}
            if time.monotonic() - started > timeout:
                raise SystemExit(f"the pending taskings were not followed within {timeout:g} s")
            await asyncio.sleep(10)
    finally:
        await client.close()


# -- 3. measure ----------------------------------------------------------------------------------------
def tasking_body(aoi: dict[str, Any], start: datetime) -> dict[str, Any]:
    return {"kind": "tasking", "title": "Quote benchmark", "mission": "pleiades", "justification": "benchmark",
            "aoi": aoi, "tasking": {
                "window": {"start": start.isoformat(), "end": (start + timedelta(days=14)).isoformat()},
                "max_cloud_cover": 20, "max_incidence_angle": 30, "mode": "stereo", "priority": "standard"}}


def search_of(body: dict[str, Any]) -> dict[str, Any]:
    """The STAC search the quote of ``body`` sends the catalogue (the requests service's own code)."""
    from requests_service.adapters.delivered import search_body
    from requests_service.domain.offers import search_area
    from requests_service.domain.rules import IntakeRules
    from requests_service.service_layer.offers import CANDIDATES, MAX_CANDIDATES

    rules, t = IntakeRules(), body["tasking"]
    start = datetime.fromisoformat(t["window"]["start"])
    since = start - timedelta(days=rules.offers_delivered_recency_days)
    return search_body(body["mission"], search_area(body["aoi"]), since, start, t["max_cloud_cover"],
                       t["max_incidence_angle"], min(MAX_CANDIDATES, rules.offers_delivered_max * CANDIDATES))


def measure(gateway: str, token: str, bodies: list[dict[str, Any]], reps: int, warmup: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"quote": [], "search": []}
    offers = {"delivered": 0, "join": 0}
    with httpx.Client(base_url=gateway, timeout=60, headers={"authorization": f"Bearer {token}"}) as api:
        for rep in range(warmup + reps):
            body = bodies[rep % len(bodies)]
            calls = [("quote", "/api/requests/quotes", body), ("search", "/stac/search", search_of(body))]
            for name, path, payload in calls if rep % 2 == 0 else calls[::-1]:  # each goes first as often
                t0 = time.perf_counter()
                r = api.post(path, json=payload)
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{path} answered {r.status_code}: {r.text[:500]}")
                if rep >= warmup:
                    times[name].append(elapsed)
                    if name == "quote":
                        got = r.json()
                        offers["delivered"] += len(got["offers"]["delivered"]) if "offers" in got else 0
                        offers["join"] += len(got["offers"]["join"]) if "offers" in got else 0
    row = {name: {"p50_ms": round(statistics.median(t), 1), "p95_ms": round(pct(t, 95), 1), "n": len(t)}
           for name, t in times.items()}
    row["ratio_p50"] = round(row["quote"]["p50_ms"] / row["search"]["p50_ms"], 2)
    row["offers_per_quote"] = {k: round(v / reps, 2) for k, v in offers.items()}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--areas", type=int, default=30)
    parser.add_argument("--profile", default="test")
    parser.add_argument("--follow-timeout", type=float, default=1800.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from dinamis_cli import stack
    from dinamis_cli.stack.membership import approved_in_stack

    profile = stack.load_profile(args.profile)
    stack.start_servers(profile)
    dsn = catalogue_database(profile, args.items)
    stack.start_services(profile)
    entity_file = profile.path("bench", "quote-entity")
    if entity_file.exists():
        entity_id = entity_file.read_text().strip()
    else:
        entity_id = asyncio.run(approved_in_stack(profile, "institutional", f"bench-quote-{os.getpid()}"))
        entity_file.write_text(entity_id)
    token = stack.mint_token(profile, "bench-quote-user", entity_id, ["user"])
    figures: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
                               "items": args.items, "pending_taskings": args.pending, "target_ratio": TARGET}
    stack.stop_service(profile, "catalogue")
    try:
        stack.start_service(profile, "catalogue", env={"POSTGRES_DSN": dsn})
        print(f"storing {args.pending} pending taskings (skipped if there)…", flush=True)
        asyncio.run(seed_pending(profile, entity_id, args.pending))
        figures["followed"] = asyncio.run(wait_followed(profile, entity_id, args.pending, args.follow_timeout))
        start = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0)
        bodies = [tasking_body(aoi, start) for aoi in areas(args.areas, seed=11)]
        figures["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
        figures["quote_vs_search"] = measure(profile.service_url("gateway"), token, bodies, args.reps, args.warmup)
        figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        stack.stop_service(profile, "catalogue")
        stack.start_service(profile, "catalogue")
    row = figures["quote_vs_search"]
    print(f"quote p50 {row['quote']['p50_ms']} ms (p95 {row['quote']['p95_ms']}), search p50 "
          f"{row['search']['p50_ms']} ms (p95 {row['search']['p95_ms']}): ratio {row['ratio_p50']} "
          f"(target ≤ {TARGET}); offers per quote {row['offers_per_quote']}")
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
