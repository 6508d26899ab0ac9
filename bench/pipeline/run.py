"""bench/pipeline: submit → ``ordered`` latency through the whole system, against the floor of
one raw Kafka hop measured on the same broker in the same run.

    uv run python bench/pipeline/run.py [--requests 300] [--concurrency 16] [--profile test]

It starts the servers and services of the profile if needed (the project's own stack), then:
1. floor: one raw aiokafka produce → consume hop (acks=all, idempotent producer, consumer
   committing each record), sequential, ``--hops`` samples;
2. pipeline: ``--requests`` POST /api/requests through the gateway, ``--concurrency`` at a time:
   archive requests of 9 km² clipped in a known Airbus archive scene (``dinamis_testkit.archive``,
   loaded into the profile's catalogue first), within the free quota, so the test and dev
   profiles' rule accepts them with no person;
   a request counts as done when its ``status-changed → ordered`` event reaches a consumer
   here, so the latency covers every hop: requests → arbitration → provisioning → requests → us;
   first unloaded (one request at a time, each awaited: the pipeline's own latency), then
   saturated (``--concurrency`` at a time: sustained requests/s, latency including queueing);
3. prints p50/p99 of each, and the ratio p50 / (HOPS × floor p50);
4. around the saturated phase (``probe.py``): CPU milliseconds per request of each process tree of
   the stack (``/proc``), FerretDB's commands per request (its own counters) and, with
   ``--profile-services``, the top frames of each service (py-spy) and of FerretDB (Go pprof),
   written under ``bench/pipeline/profiles/``.

The client behaves as a real one: each submission carries an ``Idempotency-Key`` and a 503 with
``Retry-After`` is retried after that delay (counted apart). Nothing may be lost: the run fails
(exit 1) if any request never reaches ``ordered`` or any submission ends in an error, which are
counted by status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import report
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dinamis_testkit.archive import archive_request, archive_scene, ensure_archive_items
from probe import Probe

# Kafka hops on the critical path: submitted (requests→arbitration), decision (arbitration→
# provisioning), order recorded (provisioning→requests), status-changed (requests→here).
HOPS = 4
STATUS_TOPIC = "requests.request.events.v1"
SCENE = archive_scene("pleiades", 0)  # what every submission asks for: 3 km × 3 km of a Pléiades scene


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# The profile's Kafka administrator (aiokafka keyword arguments; empty on PLAINTEXT), set by main():
# the floor's topic and the status watcher are the benchmark's, not a service's.
KAFKA_LOGIN: dict[str, Any] = {}


async def raw_hop_floor(bootstrap: str, samples: int) -> list[float]:
    topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **KAFKA_LOGIN)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **KAFKA_LOGIN)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"bench-floor-{uuid.uuid4().hex[:6]}",
                                enable_auto_commit=False, auto_offset_reset="earliest", **KAFKA_LOGIN)
    await producer.start()
    await consumer.start()
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    latencies = []
    try:
        for i in range(samples + 20):  # the first 20 warm the connections up
            start = time.perf_counter()
            await producer.send_and_wait(topic, str(i).encode())
            record = await consumer.getone()
            await consumer.commit({tp: record.offset + 1})
            if i >= 20:
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        await producer.stop()
        await consumer.stop()
    return latencies


async def unloaded(gateway: str, bootstrap: str, token: str, n: int) -> list[float]:
    latencies: list[float] = []
    for _ in range(n):
        result = await pipeline(gateway, bootstrap, token, 1, 1, 30)
        if result["lost"] or result["errors"]:
            raise SystemExit(f"a request never reached 'ordered': {result}")
        latencies += result["latencies_ms"]
    return latencies


async def pipeline(gateway: str, bootstrap: str, token: str, n: int, concurrency: int, stall: float,
                   probe: Probe | None = None) -> dict:
    """``n`` submissions, ``concurrency`` at a time, each followed until it reaches ``ordered``.

    The wait ends when every accepted request is ``ordered``, or when none has reached it for
    ``stall`` seconds: the rest count as lost.
    """
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}  # ordered events, also those that arrive before the 201 is read
    done: dict[str, float] = {}
    progress = asyncio.Event()
    consumer = AIOKafkaConsumer(STATUS_TOPIC, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest", enable_auto_commit=False, **KAFKA_LOGIN)
    await consumer.start()
    await consumer.seek_to_end()

    async def watch() -> None:
        async for record in consumer:
            headers = dict(record.headers)
            if headers.get("ce_type") != b"fr.dinamis.requests.request.status-changed.v1":
                continue
            body = json.loads(record.value)
            if body["status"] == "ordered":
                seen.setdefault(body["request_id"], time.perf_counter())
                if body["request_id"] in sent:
                    done.setdefault(body["request_id"], seen[body["request_id"]])
                    progress.set()

    watcher = asyncio.create_task(watch())
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []
    failures: Counter[str] = Counter()  # final answers other than 201/200, and transport errors
    retried: Counter[str] = Counter()  # 503 + Retry-After answers that were retried
    accepted_at: list[float] = []
    async with httpx.AsyncClient(base_url=gateway, headers={"authorization": f"Bearer {token}"},
                                 timeout=60, limits=httpx.Limits(max_connections=concurrency)) as api:

        async def submit(i: int) -> None:
            body = archive_request(SCENE, title=f"bench {i}", clip_km=3)
            key = {"idempotency-key": uuid.uuid4().hex}
            async with gate:
                start = time.perf_counter()
                for _attempt in range(10):
                    try:
                        r = await api.post("/api/requests", json=body, headers=key)
                    except httpx.HTTPError as e:
                        failures[f"transport {type(e).__name__}"] += 1
                        errors.append(f"{type(e).__name__}: {e}")
                        return
                    if r.status_code == 503 and "retry-after" in r.headers:
                        retried[str(r.status_code)] += 1
                        await asyncio.sleep(float(r.headers["retry-after"]))
                        continue
                    break
                if r.status_code not in (200, 201):
                    failures[str(r.status_code)] += 1
                    errors.append(f"{r.status_code} {r.text[:300]}")
                    return
                request_id = r.json()["id"]
                sent[request_id] = start
                accepted_at.append(time.perf_counter())
                if request_id in seen:
                    done.setdefault(request_id, seen[request_id])
                    progress.set()

        if probe is not None:
            await probe.begin()
        try:
            first = time.perf_counter()
            await asyncio.gather(*(submit(i) for i in range(n)))
            while len(done) < len(sent):
                progress.clear()
                try:
                    await asyncio.wait_for(progress.wait(), stall)
                except TimeoutError:
                    break
        finally:  # the profilers stop whatever happens
            if probe is not None:
                await probe.end()
    watcher.cancel()
    await consumer.stop()
    latencies = [(done[i] - sent[i]) * 1000 for i in done]
    return {
        "submitted": n, "accepted": len(sent), "ordered": len(done), "lost": len(sent) - len(done),
        "failed_submissions_by_status": dict(failures), "retried_after_503": sum(retried.values()),
        "errors": errors[:5],
        "latencies_ms": latencies,
        "accepted_rps": len(accepted_at) / (max(accepted_at) - first) if accepted_at else 0.0,
        "throughput_rps": len(done) / (max(done.values()) - first) if done else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--hops", type=int, default=300, help="raw hop samples for the floor")
    parser.add_argument("--unloaded", type=int, default=40, help="requests submitted one at a time")
    parser.add_argument("--profile", default="test")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds with no request reaching 'ordered' after which the rest count as lost")
    parser.add_argument("--profile-services", action="store_true",
                        help="py-spy on each service and FerretDB's pprof during the saturated phase, "
                             "summaries in bench/pipeline/profiles/")
    parser.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    from dinamis_cli import stack
    from dinamis_cli.stack import process

    profile = stack.load_profile(args.profile)
    stack.start_servers(profile)
    stack.start_services(profile)
    from dinamis_cli.stack.servers import kafka_auth

    KAFKA_LOGIN.update(kafka_auth(profile).client_options())
    ensure_archive_items(profile.postgres_dsn)  # the scene the submissions pick, in the catalogue
    from dinamis_cli.stack.membership import approved_in_stack

    entity_id = asyncio.run(approved_in_stack(profile, "institutional", "bench"))  # as an organisation would
    token = stack.mint_token(profile, "bench-user", entity_id, ["user"])

    floor = asyncio.run(raw_hop_floor(profile.kafka_bootstrap, args.hops))
    asyncio.run(pipeline(profile.service_url("gateway"), profile.kafka_bootstrap, token, 20, 4, 60))  # warm-up
    alone = asyncio.run(unloaded(profile.service_url("gateway"), profile.kafka_bootstrap, token, args.unloaded))

    names = [s.name for s in stack.REGISTRY] + list(stack.SERVICES)
    pids = {name: pid for name in names if (pid := process.read_pid(profile, name)) is not None}
    probe = Probe(pids, profile.mongodb_uri, profile.ports["ferretdb_debug"],
                  list(stack.SERVICES) if args.profile_services else None, args.profile_rate)
    result = asyncio.run(pipeline(profile.service_url("gateway"), profile.kafka_bootstrap, token,
                                  args.requests, args.concurrency, args.timeout, probe))
    # a process that died or was restarted during the phase makes its CPU figure meaningless
    changed = sorted(name for name, pid in pids.items() if process.read_pid(profile, name) != pid)
    lat = result.pop("latencies_ms")
    floor_p50 = statistics.median(floor)
    alone_p50 = statistics.median(alone)
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "requests": args.requests, "concurrency": args.concurrency, "hops_on_path": HOPS,
        "raw_hop_ms": {"p50": round(floor_p50, 2), "p99": round(pct(floor, 99), 2)},
        "unloaded_submit_to_ordered_ms": {"n": len(alone), "p50": round(alone_p50, 1),
                                          "p99": round(pct(alone, 99), 1)},
        "unloaded_ratio_p50_over_hops_x_floor": round(alone_p50 / (HOPS * floor_p50), 2),
        "saturated_submit_to_ordered_ms": {"p50": round(statistics.median(lat), 1), "p99": round(pct(lat, 99), 1)}
        if lat else {},
        "saturated_throughput_requests_per_s": round(result["throughput_rps"], 1),
        "saturated_accepted_requests_per_s": round(result["accepted_rps"], 1),
        "submitted": result["submitted"], "accepted": result["accepted"], "ordered": result["ordered"],
        "lost": result["lost"], "failed_submissions_by_status": result["failed_submissions_by_status"],
        "retried_after_503": result["retried_after_503"], "errors": result["errors"],
        "processes_restarted_during_phase": changed,
        **probe.figures(result["ordered"]),
    }
    print(report.text(figures))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    else:
        print(json.dumps(figures, indent=2))
    failed = sum(result["failed_submissions_by_status"].values())
    if result["lost"] or failed:
        raise SystemExit(f"{result['lost']} accepted request(s) never reached 'ordered', {failed} submission(s) "
                         f"failed: {result['failed_submissions_by_status']}; first errors: {result['errors']}")


if __name__ == "__main__":
    main()
