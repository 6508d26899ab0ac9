"""Strict input in every service's HTTP side (issue 11): an undeclared content type is 415, and NaN,
infinities, over-long numbers, too deep nesting, NUL and lone surrogates are 422 naming the place —
never 500 — with every error an RFC 9457 problem that renders whatever the caller sent."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

import pytest
from dinamis_common.http import InputLimits, create_service_app
from dinamis_common.telemetry import setup_telemetry
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator


class Thing(BaseModel):
    name: str
    size: float = 1.0
    extra: Any = None

    @field_validator("name")
    @classmethod
    def not_forbidden(cls, value: str) -> str:
        if value == "forbidden":
            raise ValueError("this name is taken")  # pydantic keeps the exception in the error's ctx
        return value


@pytest.fixture(scope="module")
def client():
    @asynccontextmanager
    async def lifespan(_):
        yield

    app = create_service_app(title="t", telemetry=setup_telemetry("t"), lifespan=lifespan,
                             readiness=lambda _: {}, input_limits=InputLimits(max_json_depth=8,
                                                                              max_json_number_chars=20))

    @app.post("/things")
    async def create(thing: Thing) -> dict:
        return {"name": thing.name}

    @app.get("/things/{thing_id}")
    async def read(thing_id: str, q: str = "") -> dict:
        return {"id": thing_id}

    @app.post("/raw")
    async def raw(request: Request) -> dict:  # reads its own body: its own rules
        return {"bytes": len(await request.body())}

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"] == body["message"] and body["type"] == "about:blank"
    return body


def post(client, text: str, content_type: str = "application/json"):
    return client.post("/things", content=text.encode("utf-8", "surrogatepass"), headers={"content-type": content_type})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_an_undeclared_content_type_is_415_saying_what_to_send(client, content_type):
    body = problem_of(post(client, '{"name": "a"}', content_type), 415)
    assert "application/json" in body["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_json_content_types_are_read(client, content_type):
    assert post(client, '{"name": "a"}', content_type).json() == {"name": "a"}


@pytest.mark.parametrize(("text", "where", "says"), [
    ('{"name": "a", "size": NaN}', "body", "NaN is not a JSON number"),
    ('{"name": "a", "size": Infinity}', "body", "Infinity is not a JSON number"),
    ('{"name": "a", "size": -Infinity}', "body", "-Infinity is not a JSON number"),
    ('{"name": "a", "size": 1e400}', "body", "too large for a number"),
    ('{"name": "a", "size": ' + "9" * 400 + "}", "body", "a number written with 400 characters"),
    ('{"name": "a\\u0000b"}', "name", "NUL"),
    ('{"name": "a\\ud800b"}', "name", "lone surrogate"),
    ('{"name": "a", "extra": {"k\\udc00": 1}}', "extra", "lone surrogate"),
    ('{"name": "a", "extra": ' + "[" * 10 + "]" * 10 + "}", "extra", "nested deeper than 8 levels"),
])
def test_what_no_service_can_keep_is_422_naming_the_place(client, text, where, says):
    body = problem_of(post(client, text), 422)
    assert says in body["detail"] and where in body["detail"]
    assert body["errors"] and all(set(e) == {"loc", "msg", "type"} for e in body["errors"])


def test_a_paired_surrogate_escape_is_a_character_and_is_accepted(client):
    assert post(client, '{"name": "\\ud83d\\ude00"}').json() == {"name": "\U0001F600"}


def test_a_validation_error_never_reflects_the_input_or_its_context(client):
    body = problem_of(post(client, '{"name": "forbidden"}'), 422)  # ctx holds a ValueError: not JSON
    assert body["errors"] == [{"loc": ["body", "name"], "msg": "Value error, this name is taken",
                               "type": "value_error"}]
    body = problem_of(post(client, '{"name": 3, "secret": "x"}'), 422)
    assert "input" not in body["errors"][0]


def test_a_nul_in_a_path_or_query_parameter_is_422(client):
    problem_of(client.get("/things/a%00b"), 422)
    problem_of(client.get("/things/a", params={"q": "x\x00y"}), 422)
    assert client.get("/things/a", params={"q": "xy"}).json() == {"id": "a"}


def test_a_route_reading_its_own_body_keeps_its_own_rules(client):
    response = client.post("/raw", content=b"%PDF-1.7 NaN", headers={"content-type": "application/pdf"})
    assert response.json() == {"bytes": 12}


def test_the_openapi_document_declares_the_problems(client):
    operation = client.get("/openapi.json").json()["paths"]["/things"]["post"]
    assert set(operation["responses"]) >= {"200", "415", "422"}
    assert "application/problem+json" in operation["responses"]["422"]["content"]
