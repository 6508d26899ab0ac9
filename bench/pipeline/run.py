"""bench/pipeline: submit → ``ordered`` latency through the whole system, against the floor of
one raw Kafka hop measured on the same broker in the same run.

    uv run python bench/pipeline/run.py [--requests 300] [--concurrency 16] [--profile test]

It starts the servers and services of the profile if needed (the project's own stack), then:
1. floor: one raw aiokafka produce → consume hop (acks=all, idempotent producer, consumer
   committing each record), sequential, ``--hops`` samples;
2. pipeline: ``--requests`` POST /api/requests through the gateway, ``--concurrency`` at a time;
   a request counts as done when its ``status-changed → ordered`` event reaches a consumer
   here, so the latency covers every hop: requests → arbitration → provisioning → requests → us;
   first unloaded (one request at a time, each awaited: the pipeline's own latency), then
   saturated (``--concurrency`` at a time: sustained requests/s, latency including queueing);
3. prints p50/p99 of each, and the ratio p50 / (HOPS × floor p50).
Nothing may be lost: the run fails if any request never reaches ``ordered``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Kafka hops on the critical path: submitted (requests→arbitration), decision (arbitration→
# provisioning), order recorded (provisioning→requests), status-changed (requests→here).
HOPS = 4
STATUS_TOPIC = "requests.request.events.v1"
AOI = {"type": "Polygon", "coordinates": [[[5.3, 43.2], [5.4, 43.2], [5.4, 43.3], [5.3, 43.3], [5.3, 43.2]]]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def raw_hop_floor(bootstrap: str, samples: int) -> list[float]:
    topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"bench-floor-{uuid.uuid4().hex[:6]}",
                                enable_auto_commit=False, auto_offset_reset="earliest")
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


async def pipeline(gateway: str, bootstrap: str, token: str, n: int, concurrency: int, timeout: float) -> dict:
    sent: dict[str, float] = {}
    done: dict[str, float] = {}
    consumer = AIOKafkaConsumer(STATUS_TOPIC, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest", enable_auto_commit=False)
    await consumer.start()
    await consumer.seek_to_end()
    all_ordered = asyncio.Event()

    async def watch() -> None:
        async for record in consumer:
            headers = dict(record.headers)
            if headers.get("ce_type") != b"fr.dinamis.requests.request.status-changed.v1":
                continue
            body = json.loads(record.value)
            if body["status"] == "ordered" and body["request_id"] in sent:
                done.setdefault(body["request_id"], time.perf_counter())
                if len(done) == n:
                    all_ordered.set()

    watcher = asyncio.create_task(watch())
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=gateway, headers={"authorization": f"Bearer {token}"},
                                 timeout=30, limits=httpx.Limits(max_connections=concurrency)) as api:

        async def submit(i: int) -> None:
            async with gate:
                start = time.perf_counter()
                r = await api.post("/api/requests", json={"title": f"bench {i}", "mission": "pleiades", "aoi": AOI})
                if r.status_code != 201:
                    errors.append(r.text)
                    return
                sent[r.json()["id"]] = start

        first = time.perf_counter()
        await asyncio.gather(*(submit(i) for i in range(n)))
        try:
            await asyncio.wait_for(all_ordered.wait(), timeout)
        except TimeoutError:
            pass
    watcher.cancel()
    await consumer.stop()
    latencies = [(done[i] - sent[i]) * 1000 for i in done]
    return {
        "submitted": len(sent), "ordered": len(done), "errors": errors[:5],
        "lost": len(sent) - len(done),
        "latencies_ms": latencies,
        "throughput_rps": len(done) / (max(done.values()) - first) if done else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--hops", type=int, default=300, help="raw hop samples for the floor")
    parser.add_argument("--unloaded", type=int, default=40, help="requests submitted one at a time")
    parser.add_argument("--profile", default="test")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    from dinamis_cli import stack

    profile = stack.load_profile(args.profile)
    stack.start_servers(profile)
    stack.start_services(profile)
    from dinamis_cli.stack.membership import approved_in_stack

    entity_id = asyncio.run(approved_in_stack(profile, "institutional", "bench"))  # as an organisation would
    token = stack.mint_token(profile, "bench-user", entity_id, ["user"])

    floor = asyncio.run(raw_hop_floor(profile.kafka_bootstrap, args.hops))
    asyncio.run(pipeline(profile.service_url("gateway"), profile.kafka_bootstrap, token, 20, 4, 60))  # warm-up
    alone = asyncio.run(unloaded(profile.service_url("gateway"), profile.kafka_bootstrap, token, args.unloaded))
    result = asyncio.run(pipeline(profile.service_url("gateway"), profile.kafka_bootstrap, token,
                                  args.requests, args.concurrency, args.timeout))
    lat = result.pop("latencies_ms")
    floor_p50 = statistics.median(floor)
    alone_p50 = statistics.median(alone)
    figures = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, {platform.platform()}",
        "requests": args.requests, "concurrency": args.concurrency, "hops_on_path": HOPS,
        "raw_hop_ms": {"p50": round(floor_p50, 2), "p99": round(pct(floor, 99), 2)},
        "unloaded_submit_to_ordered_ms": {"n": len(alone), "p50": round(alone_p50, 1),
                                          "p99": round(pct(alone, 99), 1)},
        "unloaded_ratio_p50_over_hops_x_floor": round(alone_p50 / (HOPS * floor_p50), 2),
        "saturated_submit_to_ordered_ms": {"p50": round(statistics.median(lat), 1), "p99": round(pct(lat, 99), 1)}
        if lat else {},
        "saturated_throughput_requests_per_s": round(result["throughput_rps"], 1),
        "lost": result["lost"], "errors": result["errors"],
    }
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    if result["lost"] or result["errors"]:
        raise SystemExit(f"{result['lost']} request(s) never reached 'ordered'; errors: {result['errors']}")


if __name__ == "__main__":
    main()
