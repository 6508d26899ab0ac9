"""Several replicas of every service, killed at random with SIGKILL mid-flow: every effect still
happens exactly once and no change is left with side effects nobody will send.

Besides the stack's own process of every service with consumers (requests, arbitration,
provisioning, accounts, catalogue), the test starts two more of each (same consumer groups, same
databases: real replicas, so each group has three members sharing the partitions), sends requests
to two request APIs alternately, and kills a random replica every few hundred milliseconds,
restarting it at once. Effects checked: one case, one order and one acquisition per request, each
status once in its history, the entity's activity counting each request once."""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import sys
import uuid

import pytest
from dinamis_testkit.archive import archive_request, archive_scene
from dinamis_testkit.statuses import ORDERED_OR_LATER
from pymongo import AsyncMongoClient

pytestmark = [pytest.mark.integration, pytest.mark.flow]

SCENE = archive_scene()  # 9 km² of it per request: accepted by the test profile's rule
SERVICES = ("requests", "arbitration", "provisioning", "accounts", "catalogue")  # every consumer group
MONGO_SERVICES = ("requests", "arbitration", "provisioning", "accounts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replicas:
    """Extra processes of the stack's services, as the stack would start them, on ports of their own."""

    def __init__(self, running_stack) -> None:
        from dinamis_cli.stack import process

        self.process, self.profile = process, running_stack.profile
        self.ports: dict[str, int] = {}

    def start(self, name: str, wait: bool = True) -> None:
        service = name.split("-")[0]
        port = self.ports.setdefault(name, _free_port())
        env = {**self.profile.service_env(service), "HTTP_PORT": str(port)}
        pid = self.process.spawn(self.profile, name, [sys.executable, "-m", f"{service}_service"], env=env,
                                 cwd=self.profile.root)
        if wait:
            self.process.wait_until(lambda: self._ready(port), 90, name, pid, self.process.log_file(self.profile, name))

    @staticmethod
    def _ready(port: int) -> bool:
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, name: str) -> None:
        self.process.stop(self.profile, name, signal.SIGKILL, timeout=10)

    def stop_all(self) -> None:
        for name in self.ports:
            self.process.stop(self.profile, name, signal.SIGTERM, timeout=20)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"


async def _pending_changes(mongodb_uri: str) -> dict[str, int]:
    """Changes whose events or e-mails are not sent yet, per collection of each service's database."""
    client: AsyncMongoClient = AsyncMongoClient(mongodb_uri)
    try:
        found = {}
        for service in MONGO_SERVICES:
            db = client[f"dinamis_{service}"]
            for name in await db.list_collection_names():
                if name.endswith("_changes"):
                    found[f"{service}.{name}"] = await db[name].count_documents({"outbox_pending": True})
        return found
    finally:
        await client.close()


@pytest.mark.timeout(600)  # fifteen processes on two cores, each kill a rebalance of every group of the victim
async def test_three_replicas_of_each_consumer_and_two_apis_killed_at_random_apply_everything_once(
        running_stack, servers, eventually):
    import httpx

    replicas = Replicas(running_stack)
    rng = random.Random(20261130)
    owner = f"replica-{uuid.uuid4().hex[:6]}"
    token = running_stack.token(owner)
    headers = {"authorization": f"Bearer {token}"}
    extra = [f"{s}-r{i}" for s in SERVICES for i in (2, 3)]
    entity = running_stack.entities["institutional"]
    member = running_stack.token(f"{owner}-reader", roles=("user",))
    async with running_stack.client(member) as api:
        async def settled():  # what earlier tests submitted is counted before this one starts
            first = (await api.get(f"/api/accounts/entities/{entity}/activity")).json()
            await asyncio.sleep(1.5)
            second = (await api.get(f"/api/accounts/entities/{entity}/activity")).json()
            return second if first == second else None

        before = await eventually(settled, timeout=60, interval=0.1)
    try:
        for name in extra:
            replicas.start(name)
        apis = [running_stack.profile.service_url("requests"), replicas.url("requests-r2")]
        victims = [*extra, *SERVICES]
        killing = asyncio.Event()

        async def chaos() -> int:
            kills = 0
            while not killing.is_set() or kills < 3:  # at least three kills, however fast the intake
                await asyncio.sleep(rng.uniform(0.3, 0.8))
                victim = rng.choice(victims)
                if victim in SERVICES:
                    running_stack.kill(victim)
                    await asyncio.to_thread(running_stack.restart, victim)
                elif victim != "requests-r2":  # the second API stays up so submissions have somewhere to go
                    replicas.kill(victim)
                    replicas.start(victim, wait=False)
                kills += 1
            return kills

        async def submit(client: httpx.AsyncClient, i: int) -> str:
            body = archive_request(SCENE, title=f"replicated {i}")
            key = {"idempotency-key": f"{owner}-{i}"}
            for _attempt in range(120):  # the API a request went to may be the one just killed: ask again
                base = apis[(i + _attempt) % 2]
                try:
                    r = await client.post(f"{base}/api/requests", json=body, headers={**headers, **key})
                except httpx.TransportError:
                    await asyncio.sleep(0.5)
                    continue
                if r.status_code in (200, 201):
                    return r.json()["id"]
                assert r.status_code == 503, r.text
                await asyncio.sleep(0.5)
            raise AssertionError(f"request {i} never accepted")

        chaos_task = asyncio.create_task(chaos())
        async with httpx.AsyncClient(timeout=30) as client:
            ids = await asyncio.gather(*(submit(client, i) for i in range(40)))
        killing.set()
        kills = await chaos_task
        assert kills >= 3
        assert len(set(ids)) == 40  # an Idempotency-Key resent to the other API gave the same request

        async with running_stack.client(token) as api:
            async def all_ordered():
                bodies = [(await api.get(f"/api/requests/{i}")).json() for i in ids]
                return bodies if all(b.get("status") in ORDERED_OR_LATER for b in bodies) else None

            bodies = await eventually(all_ordered, timeout=240, interval=1.0)
        for body in bodies:  # each step happened once
            steps = [h["status"] for h in body["history"]]
            assert len(steps) == len(set(steps)), (body["id"], steps)
        async with running_stack.client(running_stack.token("op-replicas", roles=("operator",))) as ops:
            intents = [(await ops.get("/api/provisioning/orders", params={"request_id": i})).json()["items"]
                       for i in ids]
        assert [len(found) for found in intents] == [1] * len(ids)  # one order per request, no more
        assert {b["id"]: b["order_id"] for b in bodies} == {f[0]["request_id"]: f[0]["order_id"] for f in intents}
        async with running_stack.client(running_stack.token("op-replicas", roles=("operator",))) as ops:
            async def acquired():  # the catalogue learnt each order once
                found = (await ops.get("/api/catalogue/acquisitions", params={"limit": 500})).json()
                mine = [a for a in found if a["request_id"] in set(ids)]
                return mine if len(mine) >= len(ids) else None

            acquisitions = await eventually(acquired, timeout=180, interval=1.0)
        assert sorted(a["request_id"] for a in acquisitions) == sorted(ids)
        async with running_stack.client(member) as api:
            async def counted():  # the accounts service counted each submission once
                after = (await api.get(f"/api/accounts/entities/{entity}/activity")).json()
                return after if after["requests_submitted"] >= before["requests_submitted"] + len(ids) else None

            after = await eventually(counted, timeout=180, interval=1.0)  # groups rebalance after the kills
            await asyncio.sleep(2)
            after = (await api.get(f"/api/accounts/entities/{entity}/activity")).json()
        assert after["requests_submitted"] == before["requests_submitted"] + len(ids)

        async def nothing_stranded():  # every change's events were sent (by whichever replica)
            pending = await _pending_changes(servers.mongodb_uri)
            return pending if not any(pending.values()) else None

        await eventually(nothing_stranded, timeout=60, interval=1.0)
    finally:
        replicas.stop_all()
        for name in SERVICES:
            await asyncio.to_thread(running_stack.restart, name)
