"""The request circuit through the gateway, every service a real process on the real Kafka,
FerretDB and PostgreSQL: gateway → requests (asking the catalogue for the archive scene) →
arbitration (the test profile's rule accepts an archive request within the free quota) →
provisioning → requests."""

from __future__ import annotations

import uuid

import pytest
from dinamis_testkit.archive import archive_request, archive_scene, square, tasking_request
from dinamis_testkit.statuses import ORDERED_OR_LATER

pytestmark = [pytest.mark.integration, pytest.mark.flow]


def aoi(lon: float = 3.8, lat: float = 43.6, size: float = 0.1) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                               [lon, lat + size], [lon, lat]]]}


def archive(title: str, mission: str = "pleiades") -> dict:
    """9 km² of a known archive scene of ``mission``: within the free quota, accepted by the rule."""
    return archive_request(archive_scene(mission), title=title, clip_km=3)


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def ordered(api, request_id: str, eventually) -> dict:
    async def probe():
        body = (await api.get(f"/api/requests/{request_id}")).json()
        # the decision and the order reach the request by two consumer groups, in either order: the
        # history is whole once both are in (an order recorded first is not a decision skipped)
        steps = {h["status"] for h in body.get("history", [])}
        return body if body.get("status") in ORDERED_OR_LATER and {"accepted", "ordered"} <= steps else None

    return await eventually(probe, timeout=60)


async def test_a_request_goes_from_submitted_to_ordered_with_its_cell_order_and_history(running_stack, eventually):
    token = running_stack.token(user(), category="scientific")
    async with running_stack.client(token) as api:
        created = await api.post("/api/requests", json=archive("Dunes"))
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "submitted"
        request = await ordered(api, created.json()["id"], eventually)

    assert request["cell"] == "pleiades-science"
    assert request["order_id"]
    assert [h["status"] for h in request["history"]][:4] == ["submitted", "in_review", "accepted", "ordered"]
    operator = running_stack.token("op-1", roles=("operator",))
    async with running_stack.client(operator) as ops:
        mine = (await ops.get("/api/provisioning/orders", params={"request_id": request["id"]})).json()["items"]
    assert [o["order_id"] for o in mine] == [request["order_id"]]


async def test_institutional_spot_requests_go_to_the_institutional_cell(running_stack, eventually):
    async with running_stack.client(running_stack.token(user(), category="institutional")) as api:
        created = await api.post("/api/requests", json=archive("Vineyards", "spot-6-7"))
        request = await ordered(api, created.json()["id"], eventually)
    assert request["cell"] == "institutional"


async def newest(api) -> list[str]:
    """The ids of the newest requests the caller may see (their entity's), newest first."""
    r = await api.get("/api/requests", params={"limit": 200})
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["items"]]


async def test_requesters_see_the_requests_of_their_own_entity_only(running_stack, eventually):
    alice, colleague, bob = user(), user(), user()
    async with running_stack.client(running_stack.token(alice)) as a, \
            running_stack.client(running_stack.token(colleague)) as a2, \
            running_stack.client(running_stack.token(bob, category="scientific")) as b:
        mine = (await a.post("/api/requests", json=archive("A"))).json()
        assert (await b.get(f"/api/requests/{mine['id']}")).status_code == 404
        assert (await a2.get(f"/api/requests/{mine['id']}")).json()["id"] == mine["id"]  # same entity
        assert mine["id"] in await newest(a) and mine["id"] in await newest(a2)
        assert mine["id"] not in await newest(b)
        # operators list order intents; a plain user may not
        assert (await b.get("/api/provisioning/orders")).status_code == 403


async def test_the_same_idempotency_key_gives_the_same_request_and_one_order(running_stack, eventually):
    key = f"key-{uuid.uuid4()}"
    body = archive(f"Retry me {key}", "spot-6-7")
    async with running_stack.client(running_stack.token(user())) as api:
        first = await api.post("/api/requests", json=body, headers={"Idempotency-Key": key})
        again = await api.post("/api/requests", json=body, headers={"Idempotency-Key": key})
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        other = await api.post("/api/requests", json={**body, "title": "changed"}, headers={"Idempotency-Key": key})
        assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
        await ordered(api, first.json()["id"], eventually)
        items = (await api.get("/api/requests", params={"limit": 200})).json()["items"]
        assert [i["id"] for i in items if i["title"] in (body["title"], "changed")] == [first.json()["id"]]
    async with running_stack.client(running_stack.token("op-2", roles=("operator",))) as ops:
        orders = (await ops.get("/api/provisioning/orders", params={"request_id": first.json()["id"]})).json()
    assert len(orders["items"]) == 1


TASKING = tasking_request(aoi(), days=10)


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


@pytest.mark.parametrize(("body", "message"), [
    (_without(TASKING, "aoi"), "aoi: Field required"),
    ({**TASKING, "title": ""}, "title"),
    ({**TASKING, "mission": "landsat"}, "mission"),
    (_without(archive("x"), "justification"), "justification: Field required"),
    ({**TASKING, "aoi": {"type": "Point", "coordinates": [3, 43]}}, "'Polygon' or 'MultiPolygon'"),
    ({**TASKING, "aoi": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "crosses itself"),
    ({**TASKING, "aoi": aoi(200, 10)}, "longitude"),
    ({**TASKING, "aoi": square(3.8, 43.6, 1.5)}, "at least 5 km²"),
    (tasking_request(aoi(), days=3), "at least 7 days"),
    ({**archive("x"), "archive": {"scenes": [{"item_id": "airbus-archive-nowhere"}]}}, "no airbus-archive scene"),
    (archive_request(archive_scene("spot-6-7"), mission="pleiades"), "not by pleiades"),
])
async def test_a_bad_body_gets_a_4xx_that_says_what_is_wrong_and_stores_nothing(running_stack, body, message):
    async with running_stack.client(running_stack.token(user())) as api:
        seen = await newest(api)
        response = await api.post("/api/requests", json=body)
        assert response.status_code == 422, response.text
        assert message in response.json()["message"]
        assert await newest(api) == seen


async def test_the_gateway_refuses_missing_and_bad_tokens_and_oversized_bodies(running_stack):
    async with running_stack.client() as anonymous:
        missing = await anonymous.get("/api/requests")
        assert missing.status_code == 401 and "bearer" in missing.json()["message"].lower()
        forged = await anonymous.get("/api/requests", headers={"authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401
        assert (await anonymous.get("/stac")).status_code == 200  # discovery is public
    async with running_stack.client(running_stack.token(user())) as api:
        seen = await newest(api)
        huge = {**archive("x"), "pad": "x" * 2_000_000}
        response = await api.post("/api/requests", json=huge)
        assert response.status_code == 413
        assert await newest(api) == seen
        assert (await api.get("/api/nosuchservice/x")).status_code == 404
