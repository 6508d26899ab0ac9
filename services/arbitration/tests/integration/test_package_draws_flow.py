"""Acceptances paid from a prepaid package, through the served arbitration service on the real Kafka
and FerretDB: an arbiter's acceptance draws the km² beyond the free part of the frozen quote from the
entity's package; one the package cannot take is refused (409, saying what is left) and nothing is
held; the request's cancellation gives the draw back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import quota, requests
from dinamis_testkit.fixtures import served_service
from dinamis_testkit.polling import until

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [4.4, 43.6], [4.4, 44.2], [3.8, 44.2], [3.8, 43.6]]]}
NOW = datetime.now(UTC)

paid_service = served_service("arbitration", create_app, Settings, fixture_name="paid_service",
                              publishes=[quota.TOPIC], listens_to=requests.TOPIC)  # no rule: a person decides


def submission(request_id: str, entity: str, package_id: str, km2: float, free: float) -> CloudEvent:
    over = km2 - free
    data = requests.RequestSubmittedV1(
        request_id=request_id, title="Vineyards", mission="spot-6-7", aoi=AOI, area_km2=km2, kind="archive",
        submitted_at=NOW, justification="survey",
        requester=requests.Requester(user_id="u-1", entity_id=entity, entity_category="scientific"),
        quote=requests.QuoteV1(area_km2=km2, free_km2=free, over_quota_km2=over, billed_km2=over, price_eur="0.00",
                               payer="prepaid-package", basis="drawn from the package", invoicing_minimum_km2=25,
                               cell="spot-science", period=str(NOW.year), quoted_at=NOW,
                               valid_until=NOW + timedelta(days=3), package_id=package_id))
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_acceptances_draw_from_the_package_within_what_it_has_and_cancellation_gives_back(paid_service):
    service, entity = paid_service, f"ent-{uuid.uuid4().hex[:8]}"
    async with service.client("admin-1", roles=["admin"]) as admin:
        pkg = (await admin.post("/api/arbitration/packages", json={
            "entity_id": entity, "mission": "spot-6-7", "km2": 500, "amount_eur": "250.00",
            "expires_at": (NOW + timedelta(days=90)).isoformat(), "reference": "PO-1"})).json()
    first, second = (f"req-{uuid.uuid4().hex[:8]}" for _ in range(2))
    await service.upstream.publish(submission(first, entity, pkg["package_id"], 5300, 5000),
                                   submission(second, entity, pkg["package_id"], 5300, 5000))

    async def package() -> dict:
        async with service.client("member", entity=entity) as member:
            return (await member.get("/api/arbitration/packages")).json()["items"][0]

    async with service.client(roles=["admin"]) as admin:
        async def opened():
            return [(await admin.get(f"/api/arbitration/cases/{r}")).status_code for r in (first, second)] == [200, 200]
        await until(opened)
    async with service.client("ana", roles=["arbiter"], cells=["spot-science"]) as ana:
        accepted = await ana.post(f"/api/arbitration/cases/{first}/decisions",
                                  json={"decision": "accepted", "reason": "fits"})
        refused = await ana.post(f"/api/arbitration/cases/{second}/decisions",
                                 json={"decision": "accepted", "reason": "fits too"})
        waiting = await ana.get(f"/api/arbitration/cases/{second}")
        partial = await ana.post(f"/api/arbitration/cases/{second}/decisions",
                                 json={"decision": "accepted-partially", "reason": "what the package still pays",
                                       "accepted_area_km2": 5150})
    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 409 and "has 200 km² left of its 500 km²" in refused.json()["message"], refused.text
    assert (waiting.json()["status"], waiting.json()["decisions"]) == ("in-review", [])
    assert partial.status_code == 201, partial.text
    seen = await package()
    assert (seen["drawn_km2"], seen["remaining_km2"]) == (450, 50)

    cancelled = requests.RequestCancelledV1(request_id=first, reason="no longer needed", cancelled_by="u-1",
                                            cancelled_at=datetime.now(UTC))
    await service.upstream.publish(CloudEvent(type=requests.REQUEST_CANCELLED, source=requests.SOURCE, subject=first,
                                              data=cancelled.model_dump(mode="json")))

    async def given_back():
        now = await package()
        return now if now["remaining_km2"] == 350 else None
    assert (await until(given_back))["drawn_km2"] == 150
