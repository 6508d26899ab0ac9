"""What every service's HTTP side does alike: probes, body limit, roles, error messages."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from dinamis_common.auth import Principal
from dinamis_common.http import create_service_app, require_roles
from dinamis_common.telemetry import setup_telemetry
from dinamis_testkit.devtokens import mint_token
from dinamis_testkit.inprocess import InProcessServers, free_port
from fastapi import Depends
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel


class Thing(BaseModel):
    name: str


@pytest.fixture
def client(verifier):
    @asynccontextmanager
    async def lifespan(_):
        yield

    async def broken() -> None:
        raise ConnectionError("database down")

    checks = {"ok": {}, "broken": {"mongodb": broken}}
    state = {"checks": "ok"}
    app = create_service_app(title="t", telemetry=setup_telemetry("t"), lifespan=lifespan,
                             readiness=lambda _: checks[state["checks"]], max_body_bytes=100)
    app.state.verifier = verifier

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/echo-id")
    async def echo_id() -> JSONResponse:
        return JSONResponse({}, headers={"x-request-id": "set-by-the-handler"})

    @app.get("/ops")
    async def ops(_: Annotated[Principal, Depends(require_roles("operator"))]) -> dict:
        return {"ok": True}

    with TestClient(app) as c:
        c.state = state
        yield c


def test_probes_tell_alive_and_ready_and_name_what_is_not(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"ready": True, "checks": {}}
    client.state["checks"] = "broken"
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert "database down" in not_ready.json()["checks"]["mongodb"]


def test_a_body_over_the_limit_is_refused_with_413(client):
    response = client.post("/things", json={"name": "x" * 200})
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.json()["message"]


def test_an_invalid_body_gets_422_naming_the_field(client):
    response = client.post("/things", json={"nom": "x"})
    assert response.status_code == 422
    assert "name: Field required" in response.json()["message"]


def test_every_response_carries_a_request_id(client):
    assert client.get("/healthz", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"
    assert client.get("/healthz").headers["x-request-id"]


def test_a_role_protected_endpoint_says_401_403_or_yes(client, keys):
    assert client.get("/ops").status_code == 401
    user = mint_token(*keys, user="u", entity=None, roles=["user"])
    forbidden = client.get("/ops", headers={"authorization": f"Bearer {user}"})
    assert forbidden.status_code == 403 and "operator" in forbidden.json()["message"]
    operator = mint_token(*keys, user="o", entity=None, roles=["operator"])
    assert client.get("/ops", headers={"authorization": f"Bearer {operator}"}).json() == {"ok": True}



async def test_a_saturated_service_sheds_with_503_and_retry_after_but_still_answers_its_probes():
    @asynccontextmanager
    async def lifespan(_):
        yield

    entered, both_in, release = [], asyncio.Event(), asyncio.Event()
    app = create_service_app(title="t", telemetry=setup_telemetry("t"), lifespan=lifespan,
                             readiness=lambda _: {}, max_in_flight=2)

    @app.get("/slow")
    async def slow() -> dict:
        entered.append(1)
        if len(entered) == 2:
            both_in.set()
        await release.wait()
        return {"done": True}

    port = free_port()
    running = InProcessServers()
    await running.start(app, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            busy = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
            await asyncio.wait_for(both_in.wait(), 5)
            shed = await client.get("/slow", headers={"x-request-id": "shed-1"})
            assert shed.status_code == 503
            assert shed.headers["retry-after"] == "1"
            assert shed.json()["error"] == "Overloaded" and "try again" in shed.json()["message"]
            assert shed.headers.get_list("x-request-id") == ["shed-1"]
            assert len(entered) == 2  # refused before any work
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            release.set()
            assert [r.status_code for r in await asyncio.gather(*busy)] == [200, 200]
            assert (await client.get("/slow")).status_code == 200  # capacity is back
    finally:
        await running.stop()


def test_a_handler_setting_its_own_request_id_still_answers_with_one(client):
    response = client.get("/echo-id", headers={"x-request-id": "mine"})
    assert response.headers.get_list("x-request-id") == ["mine"]
