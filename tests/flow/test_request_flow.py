"""The skeleton's request circuit through the gateway, every service a real process on the real
Kafka, FerretDB and PostgreSQL: gateway → requests → arbitration → provisioning → requests."""

from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.flow]


def aoi(lon: float = 3.8, lat: float = 43.6, size: float = 0.1) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                               [lon, lat + size], [lon, lat]]]}


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def ordered(api, request_id: str, eventually) -> dict:
    async def probe():
        body = (await api.get(f"/api/requests/{request_id}")).json()
        return body if body.get("status") == "ordered" else None

    return await eventually(probe, timeout=60)


async def test_a_request_goes_from_submitted_to_ordered_with_its_cell_order_and_history(running_stack, eventually):
    token = running_stack.token(user(), category="scientific")
    async with running_stack.client(token) as api:
        created = await api.post("/api/requests", json={"title": "Dunes", "mission": "pleiades", "aoi": aoi()})
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "submitted"
        request = await ordered(api, created.json()["id"], eventually)

    assert request["cell"] == "pleiades-science"
    assert request["order_id"]
    assert [h["status"] for h in request["history"]] == ["submitted", "in_review", "accepted", "ordered"]
    operator = running_stack.token("op-1", roles=("operator",))
    async with running_stack.client(operator) as ops:
        mine = (await ops.get("/api/provisioning/orders", params={"request_id": request["id"]})).json()["items"]
    assert [o["order_id"] for o in mine] == [request["order_id"]]


async def test_institutional_spot_requests_go_to_the_institutional_cell(running_stack, eventually):
    async with running_stack.client(running_stack.token(user(), category="institutional")) as api:
        created = await api.post("/api/requests", json={"title": "Vineyards", "mission": "spot-6-7", "aoi": aoi()})
        request = await ordered(api, created.json()["id"], eventually)
    assert request["cell"] == "institutional"


async def test_users_see_only_their_own_requests(running_stack, eventually):
    alice, bob = user(), user()
    async with running_stack.client(running_stack.token(alice)) as a, \
            running_stack.client(running_stack.token(bob, category="scientific")) as b:
        mine = (await a.post("/api/requests", json={"title": "A", "mission": "pleiades", "aoi": aoi()})).json()
        assert (await b.get(f"/api/requests/{mine['id']}")).status_code == 404
        assert [r["id"] for r in (await a.get("/api/requests")).json()["items"]] == [mine["id"]]
        assert (await b.get("/api/requests")).json()["items"] == []
        # operators list order intents; a plain user may not
        assert (await b.get("/api/provisioning/orders")).status_code == 403


async def test_the_same_idempotency_key_gives_the_same_request_and_one_order(running_stack, eventually):
    key = f"key-{uuid.uuid4()}"
    body = {"title": "Retry me", "mission": "spot-6-7", "aoi": aoi(-4.6, 48.3)}
    async with running_stack.client(running_stack.token(user())) as api:
        first = await api.post("/api/requests", json=body, headers={"Idempotency-Key": key})
        again = await api.post("/api/requests", json=body, headers={"Idempotency-Key": key})
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        other = await api.post("/api/requests", json={**body, "title": "changed"}, headers={"Idempotency-Key": key})
        assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
        await ordered(api, first.json()["id"], eventually)
        assert len((await api.get("/api/requests")).json()["items"]) == 1
    async with running_stack.client(running_stack.token("op-2", roles=("operator",))) as ops:
        orders = (await ops.get("/api/provisioning/orders", params={"request_id": first.json()["id"]})).json()
    assert len(orders["items"]) == 1


@pytest.mark.parametrize(("body", "message"), [
    ({"title": "x", "mission": "pleiades"}, "aoi: Field required"),
    ({"title": "", "mission": "pleiades", "aoi": aoi()}, "title"),
    ({"title": "x", "mission": "landsat", "aoi": aoi()}, "mission"),
    ({"title": "x", "mission": "pleiades", "aoi": {"type": "Point", "coordinates": [3, 43]}}, "'Point'"),
    ({"title": "x", "mission": "pleiades",
      "aoi": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}, "Self-intersection"),
    ({"title": "x", "mission": "pleiades", "aoi": aoi(200, 10)}, "longitude"),
])
async def test_a_bad_body_gets_a_4xx_that_says_what_is_wrong_and_stores_nothing(running_stack, body, message):
    async with running_stack.client(running_stack.token(user())) as api:
        response = await api.post("/api/requests", json=body)
        assert response.status_code == 422
        assert message in response.json()["message"]
        assert (await api.get("/api/requests")).json()["items"] == []


async def test_the_gateway_refuses_missing_and_bad_tokens_and_oversized_bodies(running_stack):
    async with running_stack.client() as anonymous:
        missing = await anonymous.get("/api/requests")
        assert missing.status_code == 401 and "bearer" in missing.json()["message"].lower()
        forged = await anonymous.get("/api/requests", headers={"authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401
        assert (await anonymous.get("/stac")).status_code == 200  # discovery is public
    async with running_stack.client(running_stack.token(user())) as api:
        huge = {"title": "x", "mission": "pleiades", "aoi": aoi(), "pad": "x" * 2_000_000}
        response = await api.post("/api/requests", json=huge)
        assert response.status_code == 413
        assert (await api.get("/api/requests")).json()["items"] == []
        assert (await api.get("/api/nosuchservice/x")).status_code == 404
