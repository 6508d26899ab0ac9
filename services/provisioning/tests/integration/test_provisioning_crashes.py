"""The provisioning process (``python -m provisioning_service``) SIGKILLed while it orders from the Airbus
simulator, and again while it delivers, then started again: the order exists once at Airbus (the
simulator's own log), the delivery is announced with one STAC item, and the object store holds the
package's three files once (their keys are deterministic: a delivery done again overwrites them)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.objectstore import ObjectStore
from dinamis_contracts import arbitration, provisioning, requests
from dinamis_testkit.polling import until, until_answers
from dinamis_testkit.service import sandbox
from dinamis_testkit.simulator import start_simulator
from provisioning_service.settings import Settings
from pydantic import SecretStr

pytestmark = pytest.mark.integration

KEY, SECRET = "test-airbus-key", "test-notification-secret"
NOW = datetime.now(UTC).replace(microsecond=0)
AOI = {"type": "Polygon", "coordinates": [[[1.50, 43.55], [1.54, 43.55], [1.54, 43.59], [1.50, 43.59], [1.50, 43.55]]]}


def environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict | list):
            value = json.dumps(value)
        env[name.upper()] = str(value)
    return env


async def started(env: dict[str, str], url: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "provisioning_service", env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    await until_answers(f"{url}/readyz", proc)
    return proc


async def promptly(probe, timeout: float) -> None:
    """``until`` polling every 20 ms: the moments to kill at are short."""
    async with asyncio.timeout(timeout):
        while True:
            if await probe():
                return
            await asyncio.sleep(0.02)


async def killed(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await proc.wait()




def events(request_id: str) -> tuple[CloudEvent, CloudEvent]:
    quote = requests.QuoteV1(area_km2=17.9, free_km2=17.9, over_quota_km2=0, billed_km2=0, price_eur="0",
                             payer="nobody", basis="within the quota", invoicing_minimum_km2=25.0,
                             cell="pleiades-science", period="2026", quoted_at=NOW,
                             valid_until=NOW + timedelta(days=30))
    submitted = requests.RequestSubmittedV1(
        request_id=request_id, title="archive near Toulouse", mission="pleiades", aoi=AOI, area_km2=17.9,
        requester=requests.Requester(user_id="u1", entity_id="e1"), submitted_at=NOW, kind="archive",
        scenes=[requests.SceneV1(item_id="DS_PHR1A_202605011030", aoi=AOI, area_km2=17.9)], quote=quote)
    decided = arbitration.DecisionRecordedV1(
        case_id=request_id, request_id=request_id, cell="pleiades-science", mission="pleiades", decision="accepted",
        reason="ok", decided_by="arbiter-1", decided_at=NOW, accepted_area_km2=17.9)
    return (CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                       data=submitted.model_dump(mode="json")),
            CloudEvent(type=arbitration.DECISION_RECORDED, source=arbitration.SOURCE, subject=request_id,
                       data=decided.model_dump(mode="json")))


async def test_killed_while_ordering_and_while_delivering_it_resumes_without_a_duplicate(servers, tmp_path):
    if not servers.object_store_url:
        pytest.fail("the test stack has no object store (server `objectstore`)")
    sim, airbus_url = await start_simulator(tmp_path / "airbus", KEY, notification_secret=SECRET,
                                            production_seconds=2)
    access, secret = servers.object_store_admin_keys
    store = ObjectStore(servers.object_store_url, access, secret)
    proc: asyncio.subprocess.Process | None = None
    try:
        async with sandbox(servers, tmp_path / "keys") as box:
            settings = box.settings(
                Settings, "provisioning", airbus_url=airbus_url, airbus_api_key=KEY,
                airbus_notification_secret=SECRET, object_store_url=servers.object_store_url,
                object_store_access_key=access, object_store_secret_key=secret, provisioning_auto_confirm=True,
                provisioning_worker_seconds=0.2, provisioning_poll_initial_seconds=0.3,
                provisioning_poll_max_seconds=1.0, provisioning_retry_seconds=0.3, log_level="WARNING")
            box._databases.append(settings.database_name)  # dropped with the sandbox
            env, url = environment(settings), f"http://127.0.0.1:{settings.http_port}"
            orders = box.mongo[settings.database_name]["orders"]
            proc = await started(env, url)  # it creates its topics
            published = await box.reader(provisioning.TOPIC)
            request_id = f"req-k-{uuid.uuid4().hex[:8]}"
            submitted, decided = events(request_id)
            await (await box.publisher(requests.TOPIC)).publish(submitted)
            await (await box.publisher(arbitration.TOPIC)).publish(decided)

            async def at_airbus() -> bool:
                async with httpx.AsyncClient() as http:
                    log = (await http.get(f"{airbus_url}/_simulator/orders")).json()["by_customer_reference"]
                return request_id in log

            await promptly(at_airbus, timeout=60)
            await killed(proc)  # the order was sent; recorded or not
            proc = await started(env, url)

            async def delivering() -> bool:
                doc = await orders.find_one({"_id": request_id}, {"status": 1})
                return bool(doc) and doc["status"] in ("delivering", "delivered")

            await promptly(delivering, timeout=60)
            await killed(proc)  # during the delivery (or just after it)
            proc = await started(env, url)

            async def delivered() -> bool:
                doc = await orders.find_one({"_id": request_id}, {"status": 1})
                return bool(doc) and doc["status"] == "delivered"

            await until(delivered, timeout=60)
            async with httpx.AsyncClient() as http:
                created = (await http.get(f"{airbus_url}/_simulator/orders")).json()["by_customer_reference"]
            completed: list[dict] = []

            async def announced() -> bool:
                for records in (await published.getmany(timeout_ms=300)).values():
                    for rec in records:
                        if dict(rec.headers).get("ce_type", b"").decode() == provisioning.DELIVERY_COMPLETED:
                            completed.append(json.loads(rec.value))
                return bool(completed)

            await until(announced, timeout=30)
            await asyncio.sleep(1.5)  # a second announcement would be relayed by now
            await announced()
    finally:
        if proc is not None:
            await killed(proc)
        sim.terminate()
        await sim.wait()

    assert created[request_id] == 1  # placed once at Airbus
    assert len({c["item"]["id"] for c in completed}) == 1  # one item, however often it was announced
    stored = await store.list("deliveries", f"pleiades/{request_id}/")
    assert len(stored) == 3 and {o.url for o in stored} == {a["href"] for a in completed[0]["item"]["assets"].values()}
    store.close()
