"""The gateway over real loopback HTTP: calls whose connection the service dropped are sent again
when that is safe, refused with 503 and Retry-After otherwise; one of each header; an access log
line per call; load shed at capacity; tokens, public paths, body limit and dot segments as before."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from dinamis_common.logging import JsonFormatter
from dinamis_testkit.inprocess import InProcessServers, free_port
from gateway_service.bootstrap import create_app

from .conftest import Gate, gateway_settings, service_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_get_whose_connection_the_service_dropped_succeeds_after_a_retry(stack, how):
    stack.scripted.script(how)
    async with stack.client() as api:
        response = await api.get("/api/requests/r1", params={"q": "a b"})
    assert response.status_code == 200
    assert response.json()["target"] == "/api/requests/r1?q=a+b"
    assert [call["method"] for call in stack.scripted.seen] == ["GET", "GET"]


async def test_a_post_with_an_idempotency_key_succeeds_after_a_retry_with_the_same_body(stack):
    stack.scripted.script("close")
    async with stack.client() as api:
        response = await api.post("/api/requests", json={"title": "t"}, headers={"idempotency-key": "k-1"})
    assert response.status_code == 200
    assert [call["body"] for call in stack.scripted.seen] == [b'{"title":"t"}'] * 2


async def test_a_post_without_a_key_is_refused_with_503_and_sent_only_once(stack):
    stack.scripted.script("close")
    async with stack.client() as api:
        response = await api.post("/api/requests", json={"title": "t"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["error"] == "UpstreamUnavailable"
    assert "may or may not have been applied" in body["message"] and "Idempotency-Key" in body["message"]
    assert len(stack.scripted.seen) == 1


async def test_retries_are_bounded_then_503(stack):
    stack.scripted.script("close", "close", "close", "close")
    async with stack.client() as api:
        response = await api.get("/api/requests/r1")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert len(stack.scripted.seen) == 3
    assert stack.scripted.drops == ["close"]  # the fourth was never sent


async def test_a_service_that_is_down_gets_503_with_retry_after_and_a_message(stack):
    async with stack.client() as api:
        for method in ("GET", "POST"):
            response = await api.request(method, "/api/arbitration/cases")
            assert response.status_code == 503, method
            assert response.headers["retry-after"] == "1"
            assert response.json() == {"error": "UpstreamUnavailable",
                                       "message": "the arbitration service cannot be reached; try again in 1 s"}


async def test_a_proxied_answer_has_one_date_one_server_and_the_gateways_request_id(stack):
    async with stack.client() as api:
        for path in ("/api/accounts/echo", "/api/requests/r1"):  # a service app; the scripted server
            stack.scripted.script()
            response = await api.get(path, headers={"x-request-id": "caller-chosen-1"})
            assert response.status_code == 200
            headers = response.headers
            assert len(headers.get_list("date")) == 1, path
            assert len(headers.get_list("server")) <= 1 and headers.get("server") != "scripted", path
            assert headers.get_list("x-request-id") == ["caller-chosen-1"], path
            assert response.json()["request_id"] == "caller-chosen-1", path  # what the service was given
            assert headers["content-length"] == str(len(response.content))
        assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
        fresh = await api.get("/api/accounts/echo")
        assert fresh.headers.get_list("x-request-id") == [fresh.json()["request_id"]]


async def test_each_call_writes_one_json_access_line(stack, caplog):
    caplog.set_level(logging.INFO, logger="gateway_service.access")
    stack.scripted.script("close")
    async with stack.client("alice") as api:
        response = await api.get("/api/requests/r1/history")
    async with stack.client(None) as anonymous:
        refused = await anonymous.get("/api/requests/r1")
    formatter = JsonFormatter("gateway")
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "gateway_service.access"]
    by_id = {line["request_id"]: line for line in lines}
    line = by_id[response.headers["x-request-id"]]
    assert line["service"] == "gateway" and line["level"] == "INFO"
    assert {k: line[k] for k in ("method", "route", "upstream", "path", "status", "user", "attempts")} == {
        "method": "GET", "route": "/api/requests", "upstream": "requests", "path": "/api/requests/r1/history",
        "status": 200, "user": "alice", "attempts": 2}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    line = by_id[refused.headers["x-request-id"]]
    assert (line["status"], line["user"], line["attempts"], line["route"]) == (401, None, 0, "/api/requests")


async def test_the_existing_checks_hold(stack):
    async with stack.client(None) as anonymous:
        missing = await anonymous.get("/api/accounts/echo")
        assert missing.status_code == 401 and "bearer" in missing.json()["message"].lower()
        forged = await anonymous.get("/api/accounts/echo", headers={"authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401
        assert (await anonymous.get("/api/accounts/public/hello")).json() == {"hello": "anyone"}
    async with stack.client() as api:
        stack.scripted.script()
        assert (await api.post("/api/requests", content=b"x" * 2000)).status_code == 413
        assert (await api.get("/api/nosuchservice/x")).json()["error"] == "NotFound"
        dots = await api.get("/api/accounts/public/%2e%2e/echo")
        assert dots.status_code == 404 and "dot segments" in dots.json()["message"]
        stac = await api.get("/stac/collections")
        assert stac.json()["target"] == "/stac/collections"
    assert [call["target"] for call in stack.scripted.seen] == ["/stac/collections"]  # nothing else reached it


async def test_a_saturated_gateway_sheds_with_503_but_answers_its_probes(stack):
    gate, running, ports = Gate(), InProcessServers(), {"accounts": free_port()}
    await running.start(service_app(gate), ports["accounts"], "accounts")
    gport = free_port()
    await running.start(create_app(gateway_settings(ports, stack.keys, gport, max_in_flight=2)), gport, "gateway")
    try:
        async with stack.client(base=f"http://127.0.0.1:{gport}") as api:
            busy = [asyncio.create_task(api.get("/api/accounts/slow")) for _ in range(2)]
            await gate.until_held(2)
            shed = await api.get("/api/accounts/echo")
            assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
            assert shed.json()["error"] == "Overloaded" and "try again" in shed.json()["message"]
            assert (await api.get("/healthz")).status_code == 200
            gate.release.set()
            assert [r.status_code for r in await asyncio.gather(*busy)] == [200, 200]
            assert (await api.get("/api/accounts/echo")).status_code == 200
    finally:
        gate.release.set()
        await running.stop()
