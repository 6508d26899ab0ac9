"""On the real Kafka and PostgreSQL: an order recorded by provisioning (delivered twice) becomes one
acquisition in progress, which operators read at ``GET /api/catalogue/acquisitions``; a plain user
may not."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning
from dinamis_testkit.polling import until
from dinamis_testkit.service import bearer_client

pytestmark = pytest.mark.integration


def client(catalogue, roles) -> httpx.AsyncClient:
    return bearer_client(catalogue.service_url, catalogue.keys, roles=roles)


async def test_an_order_becomes_one_acquisition_that_operators_see(catalogue):
    request_id, order_id = f"req-{uuid.uuid4().hex[:8]}", f"ord-{uuid.uuid4().hex[:8]}"
    at = datetime.now(UTC).replace(microsecond=0)
    payload = provisioning.OrderRecordedV1(order_id=order_id, request_id=request_id, mission="pleiades",
                                           area_km2=42.0, recorded_at=at, cell="pleiades-science")
    event = CloudEvent(type=provisioning.ORDER_RECORDED, source=provisioning.SOURCE, subject=request_id,
                       data=payload.model_dump(mode="json"))
    await catalogue.orders.publish(event, event)  # delivered twice

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
