"""On the real Kafka and FerretDB, through the served service: a cell's queue orders its cases by
priority then age and shows each with its frozen quote and overlap offers; the requester's entity
reads the request's place (the same position and date as the queue), and so do the cell's arbiters,
operators and admins; another entity, an arbiter of another cell and a request not in review get 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests
from dinamis_testkit.polling import until

pytestmark = pytest.mark.integration
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}
NOW = datetime.now(UTC).replace(microsecond=0)


def quote(km2: float, over: float) -> requests.QuoteV1:
    return requests.QuoteV1(
        area_km2=km2, free_km2=km2 - over, over_quota_km2=over, billed_km2=over, price_eur="250.00",
        payer="project-budget", basis="SPOT 6/7 on a project budget", invoicing_minimum_km2=100,
        cell="spot-science", period="2026", quoted_at=NOW, valid_until=NOW + timedelta(days=1),
        delivered_offers=[requests.DeliveredOfferV1(item_id="spot-old-1", collection="spot-6-7",
                                                    acquired_at=NOW - timedelta(days=30), coverage=0.75,
                                                    cloud_cover=3.0)],
        join_offers=[requests.JoinOfferV1(request_id="req-other", overlap_km2=42.0, window_start=NOW,
                                          window_end=NOW + timedelta(days=10), mode="mono")])


def tasking(request_id: str, entity: str, priority: str = "standard") -> CloudEvent:
    """A SPOT tasking for a scientist (cell spot-science), over its free quota: a person decides it."""
    start = NOW + timedelta(days=5)
    data = requests.RequestSubmittedV1(
        request_id=request_id, title="Glacier", mission="spot-6-7", aoi=AOI, area_km2=300.0, submitted_at=NOW,
        requester=requests.Requester(user_id=f"user-of-{entity}", entity_id=entity, entity_category="scientific"),
        kind="tasking", justification="glacier retreat survey", funding_reference="ANR-22-0042",
        priority=priority, quote=quote(300.0, 100.0),
        tasking=requests.TaskingV1(window_start=start, window_end=start + timedelta(days=10), max_cloud_cover=20,
                                   max_incidence_angle=30, mode="stereo", priority=priority))
    return CloudEvent(type=requests.REQUEST_SUBMITTED, source=requests.SOURCE, subject=request_id,
                      data=data.model_dump(mode="json"))


async def test_the_queue_by_priority_then_age_with_quotes_and_offers_and_the_requesters_place(service):
    tag = uuid.uuid4().hex[:6]
    first, second, urgent, high = (f"req-{tag}-{n}" for n in ("first", "second", "urgent", "high"))
    entities = {first: f"lab-{tag}-a", second: f"lab-{tag}-b", urgent: f"lab-{tag}-c", high: f"lab-{tag}-d"}
    priorities = {first: "standard", second: "standard", urgent: "urgent", high: "high"}
    async with service.client(roles=["admin"]) as admin:
        for request_id in (first, second, urgent, high):  # one after the other: each opened before the next
            await service.upstream.publish(tasking(request_id, entities[request_id], priorities[request_id]))
            await until(lambda r=request_id: _found(admin, f"/api/arbitration/cases/{r}"))

    async with service.client(user="sam", roles=["arbiter"], cells=["spot-science"]) as sam:
        body = (await sam.get("/api/arbitration/cells/spot-science/queue")).json()
        ours = [c for c in body["cases"] if c["request_id"] in entities]
        assert [c["request_id"] for c in ours] == [urgent, high, first, second]
        entry = next(c for c in ours if c["request_id"] == first)
        assert (entry["kind"], entry["priority"], entry["justification"], entry["funding_reference"],
                entry["requester_entity"]) == ("tasking", "standard", "glacier retreat survey", "ANR-22-0042",
                                               entities[first])
        assert (entry["quote"]["over_quota_km2"], entry["quote"]["price_eur"], entry["quote"]["payer"]) == (
            100.0, "250.00", "project-budget")
        assert [o["item_id"] for o in entry["offers"]["delivered"]] == ["spot-old-1"]
        assert [(o["request_id"], o["overlap_km2"]) for o in entry["offers"]["join"]] == [("req-other", 42.0)]
        assert entry["tasking"]["mode"] == "stereo"
        as_arbiter = (await sam.get(f"/api/arbitration/cases/{first}/place")).json()

    async with service.client(user="eve", roles=["user"], entity=entities[first]) as member:
        place = await member.get(f"/api/arbitration/cases/{first}/place")
    assert place.status_code == 200, place.text
    assert place.json() == as_arbiter == {
        "request_id": first, "cell": "spot-science", "position": entry["position"], "count": body["count"],
        "expected_decision_date": entry["expected_decision_date"]}
    for claims in ({"roles": ["operator"]}, {"roles": ["admin"]}):
        async with service.client(user="staff", **claims) as staff:
            assert (await staff.get(f"/api/arbitration/cases/{first}/place")).json()["position"] == entry["position"]

    for claims in ({"roles": ["user"], "entity": entities[second]},  # another entity
                   {"roles": ["user"]},  # no entity
                   {"roles": ["arbiter"], "cells": ["institutional"], "entity": "cnes"}):  # another cell's arbiter
        async with service.client(user="other", **claims) as other:
            refused = await other.get(f"/api/arbitration/cases/{first}/place")
            assert refused.status_code == 404, (claims, refused.text)
            assert refused.json()["message"] == f"no case for request {first} that you may see"
    async with service.client(user=None) as anonymous:
        assert (await anonymous.get(f"/api/arbitration/cases/{first}/place")).status_code == 401

    async with service.client(user="sam", roles=["arbiter"], cells=["spot-science"]) as sam:
        rejected = await sam.post(f"/api/arbitration/cases/{urgent}/decisions",
                                  json={"decision": "rejected", "reason": "out of scope"})
        assert rejected.status_code == 201
    async with service.client(user="eve", roles=["user"], entity=entities[urgent]) as member:
        gone = await member.get(f"/api/arbitration/cases/{urgent}/place")
        assert gone.status_code == 404 and "not waiting in a queue" in gone.json()["message"]
    async with service.client(user="eve", roles=["user"], entity=entities[first]) as member:
        moved = (await member.get(f"/api/arbitration/cases/{first}/place")).json()
    assert moved["position"] == entry["position"] - 1  # the urgent case ahead was decided


async def _found(api, path: str):
    response = await api.get(path)
    return response.json() if response.status_code == 200 else None
