"""The floor the MongoDB-wire server puts under the pipeline: what one command of each kind the
pipeline sends costs, alone, in latency and in CPU of FerretDB + PostgreSQL.

    uv run python bench/pipeline/ferret_floor.py [--profile test] [--n 300]

On a scratch database of the profile's FerretDB (dropped after), with the store's own indexes and
the stack's GIN index support, it times ``--n`` sequential commands of each kind an
``AggregateStore`` write and the relay send: the version claim (insert of a change), the
aggregate insert, the guarded replace, the relay's marking (update by ``_id``), the read by
``_id``. Multiplied by the commands per request that ``run.py`` counts, this is the least CPU and
the least latency FerretDB can give one request here, whatever the services do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path

from proc_cpu import tree_ms
from pymongo import AsyncMongoClient


def _doc(i: int) -> dict:
    """A request-sized aggregate (title, AOI text, requester, history)."""
    aoi = json.dumps({"type": "Polygon", "coordinates": [[[5.3, 43.2], [5.4, 43.2], [5.4, 43.3], [5.3, 43.2]]]})
    return {"_id": f"req-{i:06d}", "title": f"bench {i}", "mission": "pleiades", "aoi": aoi, "area_km2": 88.1,
            "owner_id": "u1", "requester": {"user_id": "u1", "entity_id": "e1", "entity_category": "scientific"},
            "status": "submitted", "history": [{"status": "submitted", "at": "2026-11-30T12:00:00Z", "note": "x"}],
            "version": 1, "changes": [uuid.uuid4().hex]}


async def measure(uri: str, roots: dict[str, int], n: int) -> dict:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    db = client[f"bench_floor_{uuid.uuid4().hex[:8]}"]
    aggregates, changes = db["requests"], db["requests_changes"]
    await changes.create_index("cause", unique=True)
    for field in ("aggregate", "outbox_pending"):
        await changes.create_index(field)
    await aggregates.insert_one({"_id": "warm"})
    await changes.insert_one({"_id": "warm:1", "cause": "warm"})
    await _gin(roots, db.name)
    kinds = {
        "claim (insert change)": lambda i: changes.insert_one(
            {"_id": f"req-{i:06d}:1", "aggregate": f"req-{i:06d}", "version": 1, "cause": uuid.uuid4().hex,
             "state": _doc(i), "outbox": {"e": {"value": "x" * 600}}, "outbox_pending": True}),
        "insert aggregate": lambda i: aggregates.insert_one(_doc(i)),
        "guarded replace": lambda i: aggregates.replace_one({"_id": f"req-{i:06d}", "version": 1},
                                                            {**_doc(i), "version": 2}),
        "mark sent (update by _id)": lambda i: changes.update_one(
            {"_id": f"req-{i:06d}:1"}, {"$set": {"outbox_pending": False}, "$unset": {"outbox": "", "state": ""}}),
        "read by _id": lambda i: aggregates.find_one({"_id": f"req-{i:06d}"}),
    }
    out = {}
    try:
        for name, command in kinds.items():
            latencies = []
            before = tree_ms(roots)
            for i in range(n):
                start = time.perf_counter()
                await command(i)
                latencies.append((time.perf_counter() - start) * 1000)
            after = tree_ms(roots)
            cpu = sum(after[k] - before[k] for k in roots)
            out[name] = {"p50_ms": round(statistics.median(latencies), 2),
                         "p99_ms": round(sorted(latencies)[int(0.99 * (n - 1))], 2),
                         "cpu_ms_per_command": round(cpu / n, 2)}
    finally:
        await client.drop_database(db.name)
        await client.close()
    return out


async def _gin(roots: dict[str, int], database: str) -> None:
    """The stack's index support for the scratch collections, as ``dinamis stack index`` makes it."""
    from dinamis_cli import stack
    from dinamis_cli.stack.indexes import ensure

    await asyncio.to_thread(ensure, stack.load_profile(_PROFILE), databases=[database])


_PROFILE = "test"


def main() -> None:
    global _PROFILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="test")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    _PROFILE = args.profile
    from dinamis_cli import stack
    from dinamis_cli.stack import process

    profile = stack.load_profile(args.profile)
    roots = {name: pid for name in ("ferretdb", "postgres") if (pid := process.read_pid(profile, name))}
    figures = asyncio.run(measure(profile.mongodb_uri, roots, args.n))
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
