"""On the real Kafka and PostgreSQL: an order recorded by provisioning (delivered twice) becomes one
acquisition in progress, which operators read at ``GET /api/catalogue/acquisitions``; a plain user
may not."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning
from dinamis_testkit.devtokens import mint_token

pytestmark = pytest.mark.integration


async def until(probe, timeout: float = 20.0):
    """Polls ``probe()`` until it returns something truthy; returns it."""
    async with asyncio.timeout(timeout):
        while True:
            if found := await probe():
                return found
            await asyncio.sleep(0.1)


def client(catalogue, roles) -> httpx.AsyncClient:
    token = mint_token(*catalogue.keys, user="someone", entity=None, roles=roles)
    return httpx.AsyncClient(base_url=catalogue.service_url, headers={"authorization": f"Bearer {token}"},
                             timeout=15.0)


async def test_an_order_becomes_one_acquisition_that_operators_see(catalogue):
    request_id, order_id = f"req-{uuid.uuid4().hex[:8]}", f"ord-{uuid.uuid4().hex[:8]}"
    at = datetime.now(UTC).replace(microsecond=0)
    payload = provisioning.OrderRecordedV1(order_id=order_id, request_id=request_id, mission="pleiades",
                                           area_km2=42.0, recorded_at=at, cell="pleiades-science")
    event = CloudEvent(type=provisioning.ORDER_RECORDED, source=provisioning.SOURCE, subject=request_id,
                       data=payload.model_dump(mode="json"))
    producer = AIOKafkaProducer(bootstrap_servers=catalogue.kafka, acks="all")
    await producer.start()
    try:
        for _ in range(2):  # delivered twice
            await producer.send_and_wait(catalogue.namespace + provisioning.TOPIC, event.body(),
                                         key=request_id.encode(),
                                         headers=[(k, v.encode()) for k, v in event.headers().items()])
    finally:
        await producer.stop()

    async with client(catalogue, ["operator"]) as operator:
        async def mine() -> list[dict]:
            return [a for a in (await operator.get("/api/catalogue/acquisitions")).json() if a["order_id"] == order_id]

        await until(mine)
        await asyncio.sleep(0.5)  # time for the second delivery
        seen = await mine()
    assert seen == [{"order_id": order_id, "request_id": request_id, "mission": "pleiades", "area_km2": 42.0,
                     "ordered_at": at.isoformat().replace("+00:00", "Z"), "status": "ordered"}]
    async with client(catalogue, ["user"]) as user:
        assert (await user.get("/api/catalogue/acquisitions")).status_code == 403
