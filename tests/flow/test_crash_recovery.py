"""A service killed with SIGKILL in the middle of the flow and restarted loses no request and
duplicates no order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.flow]

AOI = {"type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.9], [2.3, 48.8]]]}


async def _submit_many(api, n: int) -> list[str]:
    responses = await asyncio.gather(*(
        api.post("/api/requests", json={"title": f"r{i}", "mission": "pleiades", "aoi": AOI}) for i in range(n)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    return [r.json()["id"] for r in responses]


async def _all_ordered(api, ids: list[str], eventually) -> dict[str, str]:
    async def probe():
        bodies = [(await api.get(f"/api/requests/{i}")).json() for i in ids]
        return {b["id"]: b["order_id"] for b in bodies} if all(b["status"] == "ordered" for b in bodies) else None

    return await eventually(probe, timeout=120, interval=0.5)


@pytest.mark.parametrize("victim", ["arbitration", "provisioning", "requests"])
async def test_a_service_killed_mid_flow_and_restarted_loses_nothing_and_duplicates_nothing(
        running_stack, eventually, victim):
    owner = f"crash-{victim}-{uuid.uuid4().hex[:6]}"
    async with running_stack.client(running_stack.token(owner)) as api:
        ids = await _submit_many(api, 15)
        running_stack.kill(victim)  # mid-flow: events written, some published, some consumed
        if victim != "requests":
            ids += await _submit_many(api, 5)  # intake goes on while a downstream service is down
        running_stack.restart(victim)
        orders = await _all_ordered(api, ids, eventually)

    assert set(orders) == set(ids)
    async with running_stack.client(running_stack.token("op-crash", roles=("operator",))) as ops:
        intents = [(await ops.get("/api/provisioning/orders", params={"request_id": i})).json()["items"] for i in ids]
    assert [len(found) for found in intents] == [1] * len(ids)  # one order intent per request, no more
    assert {found[0]["request_id"]: found[0]["order_id"] for found in intents} == orders
