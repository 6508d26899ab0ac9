"""What every service's HTTP side does alike: probes, body limit, roles, error messages."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated

import pytest
from dinamis_common.auth import Principal
from dinamis_common.devtokens import mint_token
from dinamis_common.http import create_service_app, require_roles
from dinamis_common.telemetry import setup_telemetry
from fastapi import Depends
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
