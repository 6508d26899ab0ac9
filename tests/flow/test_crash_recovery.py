"""A service killed with SIGKILL in the middle of the flow and restarted loses no request and
duplicates no order."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from dinamis_testkit.archive import archive_request, archive_scene
from dinamis_testkit.statuses import ORDERED_OR_LATER

pytestmark = [pytest.mark.integration, pytest.mark.flow]

SCENE = archive_scene()  # 9 km² of it per request: accepted by the test profile's rule


async def _submit_many(api, n: int) -> list[str]:
    """``n`` submissions at once, each as a client does: with an Idempotency-Key, and asked again after
    a 503 with Retry-After (the intake asks the catalogue and arbitration, which may be the victim)."""
    batch = uuid.uuid4().hex[:6]

    async def submit(i: int):
        for _ in range(120):
            r = await api.post("/api/requests", json=archive_request(SCENE, title=f"r{i}"),
                               headers={"idempotency-key": f"{batch}-{i}"})
            if r.status_code != 503 or "retry-after" not in r.headers:
                return r
            await asyncio.sleep(0.5)
        return r

    responses = await asyncio.gather(*(submit(i) for i in range(n)))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses if r.status_code > 201]
    return [r.json()["id"] for r in responses]


async def _all_ordered(api, ids: list[str], eventually) -> dict[str, str]:
    async def probe():
        bodies = [(await api.get(f"/api/requests/{i}")).json() for i in ids]
        done = all(b["status"] in ORDERED_OR_LATER for b in bodies)
        return {b["id"]: b["order_id"] for b in bodies} if done else None

    return await eventually(probe, timeout=120, interval=0.5)


@pytest.mark.parametrize("victim", ["arbitration", "provisioning", "requests"])
async def test_a_service_killed_mid_flow_and_restarted_loses_nothing_and_duplicates_nothing(
        running_stack, eventually, victim):
    owner = f"crash-{victim}-{uuid.uuid4().hex[:6]}"
    async with running_stack.client(running_stack.token(owner)) as api:
        ids = await _submit_many(api, 15)
        running_stack.kill(victim)  # mid-flow: events written, some published, some consumed
        if victim != "requests":
            later = asyncio.create_task(_submit_many(api, 5))  # while a downstream service is down
            await asyncio.sleep(2)
        await asyncio.to_thread(running_stack.restart, victim)
        if victim != "requests":
            ids += await later
        orders = await _all_ordered(api, ids, eventually)

    assert set(orders) == set(ids)
    async with running_stack.client(running_stack.token("op-crash", roles=("operator",))) as ops:
        intents = [(await ops.get("/api/provisioning/orders", params={"request_id": i})).json()["items"] for i in ids]
    assert [len(found) for found in intents] == [1] * len(ids)  # one order intent per request, no more
    assert {found[0]["request_id"]: found[0]["order_id"] for found in intents} == orders
