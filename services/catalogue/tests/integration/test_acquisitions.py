"""On the real Kafka and PostgreSQL: an order recorded by provisioning (delivered twice) becomes one
acquisition in progress, which operators read at ``GET /api/catalogue/acquisitions``; a plain user
may not."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
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


def _delivered_item(item_id: str) -> dict:
    return {"type": "Feature", "stac_version": "1.1.0", "id": item_id, "collection": "pleiades",
            "geometry": {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7],
                                                             [3.8, 43.6]]]},
            "bbox": [3.8, 43.6, 3.9, 43.7],
            "properties": {"datetime": "2026-06-01T10:30:00Z", "platform": "pleiades-1a", "eo:cloud_cover": 3.0,
                           "gsd": 0.5},
            "assets": {"image": {"href": f"s3://deliveries/pleiades/{item_id}/IMG.tif",
                                 "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                                 "roles": ["data"]}},
            "links": []}


async def test_a_delivered_product_joins_the_shared_collection_once_found_by_any_user(catalogue):
    request_id, order_id = f"req-{uuid.uuid4().hex[:8]}", f"ord-{uuid.uuid4().hex[:8]}"
    item_id = f"PHR-{uuid.uuid4().hex[:8]}"
    at = datetime.now(UTC).replace(microsecond=0)
    recorded = provisioning.OrderRecordedV1(order_id=order_id, request_id=request_id, mission="pleiades",
                                            area_km2=80.0, recorded_at=at, cell="pleiades-science")
    done = provisioning.DeliveryCompletedV1(order_id=order_id, request_id=request_id, mission="pleiades",
                                            collection="pleiades", item=_delivered_item(item_id), ordered_km2=80.0,
                                            delivered_km2=78.2, delivered_at=at)
    events = [CloudEvent(type=t, source=provisioning.SOURCE, subject=request_id, data=p.model_dump(mode="json"))
              for t, p in ((provisioning.ORDER_RECORDED, recorded), (provisioning.DELIVERY_COMPLETED, done),
                           (provisioning.DELIVERY_COMPLETED, done))]  # the delivery told twice
    await catalogue.orders.publish(*events)
    try:
        async with bearer_client(catalogue.url, catalogue.keys, user="someone-of-another-entity",
                                 entity="ent-other") as other:
            async def found():
                page = (await other.post("/search", json={"ids": [item_id], "collections": ["pleiades"]})).json()
                return page["features"] if page.get("features") else None
            features = await until(found)
            item = (await other.get(f"/collections/pleiades/items/{item_id}")).json()
        assert [f["id"] for f in features] == [item_id]
        assert (item["properties"]["license"], item["properties"]["dinamis:request_id"],
                item["properties"]["dinamis:order_id"]) == ("proprietary", request_id, order_id)
        assert item["assets"]["image"]["href"] == f"s3://deliveries/pleiades/{item_id}/IMG.tif"
        async with client(catalogue, ["operator"]) as operator:
            async def delivered():
                return [a for a in (await operator.get("/api/catalogue/acquisitions")).json()
                        if a["order_id"] == order_id and a["status"] == "delivered"]
            assert len(await until(delivered)) == 1
    finally:  # the session's catalogue is compared item by item with a known set: leave it as it was
        with psycopg.connect(catalogue.dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM pgstac.items WHERE id = %s AND collection = %s", (item_id, "pleiades"))
