"""The order flow on the real servers: Kafka, FerretDB, the object store (SeaweedFS of the test stack) and
the Airbus simulator process (started here with delays of a second and signed notifications to the
service). An accepted archive request and an accepted tasking request (acquired in two attempts) are each
placed once, tracked, stored in the object store and announced as STAC items; operators follow them at
``GET /api/provisioning/orders``; a notification without a valid signature is refused."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.objectstore import ObjectStore
from dinamis_contracts import arbitration, provisioning, requests
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.polling import until
from dinamis_testkit.service import sandbox
from dinamis_testkit.simulator import start_simulator
from provisioning_service.bootstrap import create_app
from provisioning_service.settings import Settings

pytestmark = pytest.mark.integration

KEY, SECRET = "test-airbus-key", "test-notification-secret"
NOW = datetime.now(UTC).replace(microsecond=0)
AOI = {"type": "Polygon", "coordinates": [[[1.40, 43.55], [1.44, 43.55], [1.44, 43.59], [1.40, 43.59], [1.40, 43.55]]]}
WEATHER = [{"outcome": "cloudy", "coverage_percent": 60.0}, {"outcome": "acquired", "coverage_percent": 100.0}]


@pytest.fixture(scope="module")
async def stack(servers, tmp_path_factory):
    if not servers.object_store_url:
        pytest.fail("the test stack has no object store (server `objectstore`)")
    port = free_port()
    proc, airbus_url = await start_simulator(
        tmp_path_factory.mktemp("airbus"), KEY, notification_secret=SECRET, weather=WEATHER,
        callback_url=f"http://127.0.0.1:{port}/api/provisioning/airbus/notifications")
    access, secret = servers.object_store_admin_keys
    try:
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            service = await box.serve(
                "provisioning", create_app, Settings, publishes=[provisioning.TOPIC], http_port=port,
                airbus_url=airbus_url, airbus_api_key=KEY, airbus_notification_secret=SECRET,
                object_store_url=servers.object_store_url, object_store_access_key=access,
                object_store_secret_key=secret, provisioning_auto_confirm=True, provisioning_worker_seconds=0.3,
                provisioning_poll_initial_seconds=0.5, provisioning_poll_max_seconds=2.0,
                provisioning_retry_seconds=0.5)
            requests_relay = await box.publisher(requests.TOPIC)
            arbitration_relay = await box.publisher(arbitration.TOPIC)
            store = ObjectStore(servers.object_store_url, access, secret)
            yield service, requests_relay, arbitration_relay, store, airbus_url
            store.close()
    finally:
        proc.terminate()
        await proc.wait()


def submitted(request_id: str, kind: str) -> CloudEvent:
    minimum = 25.0 if kind == "archive" else 100.0
    quote = requests.QuoteV1(area_km2=17.9, free_km2=17.9, over_quota_km2=0, billed_km2=0, price_eur="0",
                             payer="nobody", basis="within the quota", invoicing_minimum_km2=minimum,
                             cell="pleiades-science", period="2026", quoted_at=NOW,
                             valid_until=NOW + timedelta(days=30))
    extra = ({"scenes": [requests.SceneV1(item_id="DS_PHR1A_202605011030", aoi=AOI, area_km2=17.9)]}
             if kind == "archive" else
             {"tasking": requests.TaskingV1(window_start=NOW + timedelta(days=3), window_end=NOW + timedelta(days=40),
                                            max_cloud_cover=20, max_incidence_angle=30)})
    payload = requests.RequestSubmittedV1(
        request_id=request_id, title=f"{kind} near Toulouse", mission="pleiades", aoi=AOI, area_km2=17.9,
        requester=requests.Requester(user_id="u1", entity_id="e1", entity_category="scientific"), submitted_at=NOW,
        kind=kind, quote=quote, **extra)
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


def accepted(request_id: str) -> CloudEvent:
    payload = arbitration.DecisionRecordedV1(
        case_id=request_id, request_id=request_id, cell="pleiades-science", mission="pleiades", decision="accepted",
        reason="within the programme", decided_by="arbiter-1", decided_at=NOW, accepted_area_km2=17.9)
    return CloudEvent(type=arbitration.DECISION_RECORDED, source=arbitration.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


async def announced(service, until_: dict[str, str], timeout: float = 90) -> list[tuple[str, dict]]:
    """The service's events read back until each request of ``until_`` had an event of the given type."""
    seen: list[tuple[str, dict]] = []
    async with asyncio.timeout(timeout):
        while not all(any(t == kind and p["request_id"] == r for t, p in seen) for r, kind in until_.items()):
            batches = await service.published.getmany(timeout_ms=500)
            for records in batches.values():
                for rec in records:
                    headers = {k: v.decode() for k, v in rec.headers}
                    seen.append((headers["ce_type"], json.loads(rec.value)))
    return seen


async def test_an_archive_and_a_tasking_request_are_ordered_once_and_delivered_into_the_object_store(stack):
    service, requests_relay, arbitration_relay, store, airbus_url = stack
    archive_id, tasking_id = f"req-a-{uuid.uuid4().hex[:8]}", f"req-t-{uuid.uuid4().hex[:8]}"
    # the decision may come before the request's details: the order waits for them
    await arbitration_relay.publish(accepted(archive_id), accepted(tasking_id))
    await requests_relay.publish(submitted(archive_id, "archive"), submitted(tasking_id, "tasking"))

    events = await announced(service, {archive_id: provisioning.DELIVERY_COMPLETED,
                                       tasking_id: provisioning.DELIVERY_COMPLETED})
    of = {r: [(t, p) for t, p in events if p["request_id"] == r] for r in (archive_id, tasking_id)}
    assert [t.rsplit(".", 2)[-2] for t, _ in of[archive_id]] == ["recorded", "placed", "completed"]
    assert [t.rsplit(".", 2)[-2] for t, _ in of[tasking_id]] == ["recorded", "placed", "progressed", "progressed",
                                                                  "completed"]
    attempts = [(p["attempt"], p["outcome"], p["coverage_percent"]) for t, p in of[tasking_id]
                if t == provisioning.ACQUISITION_PROGRESSED]
    assert attempts == [(1, "cloudy", 60.0), (2, "acquired", 100.0)]

    for request_id in (archive_id, tasking_id):
        done = of[request_id][-1][1]
        item = done["item"]
        assert (done["collection"], done["ordered_km2"], done["delivered_km2"]) == ("pleiades", 17.9, 17.9)
        assert (item["collection"], item["properties"]["dinamis:request_id"]) == ("pleiades", request_id)
        assert item["properties"]["platform"] == "pleiades-1a" and item["geometry"]["type"] == "Polygon"
        for asset in item["assets"].values():
            assert asset["href"].startswith(f"s3://deliveries/pleiades/{request_id}/")
            assert await store.exists(asset["href"])
        assert (await store.get(item["assets"]["image"]["href"]))[:2] in (b"II", b"MM")  # a TIFF

    async with httpx.AsyncClient() as http:
        log = (await http.get(f"{airbus_url}/_simulator/orders")).json()["by_customer_reference"]
    assert (log[archive_id], log[tasking_id]) == (1, 1)

    async with service.client(roles=["operator"]) as operator:
        [order] = (await operator.get("/api/provisioning/orders", params={"request_id": tasking_id})).json()["items"]
        assert (order["status"], order["airbus_status"], order["coverage_percent"], order["actions"]) == (
            "delivered", "delivered", 100.0, [])
        assert order["airbus_order_id"].startswith("ORD") and order["item_id"]
        refused = await operator.post(f"/api/provisioning/orders/{order['order_id']}/retry")
        assert refused.status_code == 409 and "cannot be retried" in refused.text


async def test_a_notification_without_the_shared_secret_signature_is_refused(stack):
    service = stack[0]
    body = json.dumps({"order_id": "ORD-1", "customer_reference": "x", "status": "delivered", "event": "status"})
    async with httpx.AsyncClient(base_url=service.url) as http:
        unsigned = await http.post("/api/provisioning/airbus/notifications", content=body)
        forged = await http.post("/api/provisioning/airbus/notifications", content=body,
                                 headers={"X-Airbus-Signature": "sha256=" + "0" * 64})
    assert (unsigned.status_code, forged.status_code) == (401, 401)


async def test_a_corrupt_package_fails_the_delivery_with_its_reason_storing_nothing_until_an_operator_retries(stack):
    service, requests_relay, arbitration_relay, store, airbus_url = stack
    request_id = f"req-c-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=airbus_url) as sim, service.client(roles=["operator"]) as operator:
        assert (await sim.put("/_simulator/faults", json={"corrupt_packages": True})).status_code == 200
        try:
            await arbitration_relay.publish(accepted(request_id))
            await requests_relay.publish(submitted(request_id, "archive"))

            async def failed():
                found = (await operator.get("/api/provisioning/orders", params={"request_id": request_id})).json()
                return found["items"][0] if found["items"] and found["items"][0]["status"] == "failed" else None
            order = await until(failed, timeout=90)
        finally:
            await sim.put("/_simulator/faults", json={})
        assert order["reason"].startswith("the delivered package cannot be read") and "retry" in order["actions"]
        assert await store.list("deliveries", f"pleiades/{request_id}/") == []  # nothing half-written
        retried = await operator.post(f"/api/provisioning/orders/{order['order_id']}/retry")
        assert retried.status_code == 200, retried.text

    events = await announced(service, {request_id: provisioning.DELIVERY_COMPLETED})
    mine = [t.rsplit(".", 2)[-2] for t, p in events if p["request_id"] == request_id]
    assert mine == ["recorded", "placed", "completed"]  # the failed read was never announced
    done = next(p for t, p in events if p["request_id"] == request_id and t == provisioning.DELIVERY_COMPLETED)
    assert all([await store.exists(a["href"]) for a in done["item"]["assets"].values()])
    async with httpx.AsyncClient() as http:
        log = (await http.get(f"{airbus_url}/_simulator/orders")).json()["by_customer_reference"]
    assert log[request_id] == 1  # the retry fetched the package again; it did not order again
