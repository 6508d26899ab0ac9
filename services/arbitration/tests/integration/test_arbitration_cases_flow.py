"""On the real Kafka and FerretDB: a submission delivered twice opens one case in the cell of its
mission and requester, announced with the data of what happened (and its automatic decision when
the cell's rule allows: an archive request within the free quota); an arbiter reads the cases of the
cells their token names, an administrator every cell's, a plain user none."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests
from dinamis_testkit.polling import until

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def submission(request_id: str, mission: str, category: str, area_km2: float, over_km2: float = 0.0,
               kind: str = "archive") -> CloudEvent:
    quote = requests.QuoteV1(
        area_km2=area_km2, free_km2=area_km2 - over_km2, over_quota_km2=over_km2, billed_km2=over_km2,
        price_eur="0.00" if not over_km2 else "1234.00", payer="nobody" if not over_km2 else "entity",
        basis="…", invoicing_minimum_km2=25, cell="", period="", quoted_at=NOW, valid_until=NOW + timedelta(days=1))
    payload = requests.RequestSubmittedV1(
        request_id=request_id, title="Dunes", mission=mission, aoi=AOI, area_km2=area_km2, submitted_at=NOW,
        requester=requests.Requester(user_id="u-1", entity_id="ent-1", entity_category=category), kind=kind,
        quote=quote)
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=payload.model_dump(mode="json"))


async def test_one_case_per_submission_announced_and_read_by_the_arbiters_of_its_cell(service):
    small, large = f"req-{uuid.uuid4().hex[:8]}", f"req-{uuid.uuid4().hex[:8]}"
    for event in (submission(small, "spot-6-7", "scientific", 12.5),
                  submission(large, "pleiades", "institutional", 500.0, over_km2=100.0),  # someone pays
                  submission(small, "spot-6-7", "scientific", 12.5)):  # the first one again
        await service.upstream.publish(event)  # as the requests relay does

    async with service.client(roles=["arbiter"], cells=["spot-science"]) as spot_arbiter:
        async def cases_seen_by(api: httpx.AsyncClient) -> dict[str, dict]:
            return {c["request_id"]: c for c in (await api.get("/api/arbitration/cases")).json()
                    if c["request_id"] in (small, large)}

        mine = await until(lambda: cases_seen_by(spot_arbiter))
    assert list(mine) == [small]
    assert (mine[small]["cell"], mine[small]["status"], mine[small]["decision"], mine[small]["decided_by"]) == (
        "spot-science", "decided", "accepted", "rule:archive-within-free-quota")
    async with service.client(roles=["admin"]) as admin:
        every = await until(lambda: _both(cases_seen_by(admin)))
    assert (every[large]["cell"], every[large]["status"], every[large]["decision"]) == (
        "institutional", "in-review", None)
    async with service.client(roles=["user"], cells=["spot-science"]) as user:
        assert (await user.get("/api/arbitration/cases")).status_code == 403

    announced: list[tuple[str, dict]] = []
    async with asyncio.timeout(20):
        async for record in service.published:
            announced.append((dict(record.headers)["ce_type"].decode(), json.loads(record.value)))
            if sum(body["request_id"] in (small, large) for _, body in announced) == 3:
                break
    later = await service.published.getmany(timeout_ms=1000)  # the second delivery announced nothing
    assert not any(json.loads(r.value)["request_id"] == small for records in later.values() for r in records)
    ours = [(kind.rsplit(".", 2)[-2], body) for kind, body in announced if body["request_id"] in (small, large)]
    opened = {body["request_id"]: body for kind, body in ours if kind == "opened"}
    [(_, decided)] = [(kind, body) for kind, body in ours if kind == "recorded"]
    assert opened[small] == {"case_id": small, "request_id": small, "cell": "spot-science", "mission": "spot-6-7",
                             "area_km2": 12.5, "opened_at": mine[small]["opened_at"]}
    assert opened[large]["cell"] == "institutional"
    assert decided == {"case_id": small, "request_id": small, "cell": "spot-science", "mission": "spot-6-7",
                       "decision": "accepted", "reason": "automatic acceptance: archive request of 12.5 km² within "
                                                         "the free quota (12.5 km² free, nothing over)",
                       "decided_by": "rule:archive-within-free-quota", "decided_at": mine[small]["decided_at"],
                       "accepted_area_km2": 12.5}


async def _both(cases):
    found = await cases
    return found if len(found) == 2 else None
