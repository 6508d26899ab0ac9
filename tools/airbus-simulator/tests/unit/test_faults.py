"""Injected faults (a fixed seed), the 1/s ordering limit, and signed notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter

import httpx
from airbus_simulator.faults import Faults
from airbus_simulator.notifier import Notifier
from airbus_simulator.settings import Settings


def test_faults_are_drawn_in_their_shares_and_the_same_seed_draws_the_same_faults():
    shares = {"5xx": 0.2, "timeout": 0.1, "429": 0.1}
    faults = Faults(shares, seed=42)
    counts = Counter(faults.draw() for _ in range(20_000))
    for kind, share in {"5xx": 0.2, "timeout": 0.1, "429": 0.1, None: 0.6}.items():
        assert abs(counts[kind] / 20_000 - share) < 0.015
    a, b = Faults(shares, seed=7), Faults(shares, seed=7)
    assert [a.draw() for _ in range(200)] == [b.draw() for _ in range(200)]
    assert Faults({}, seed=7).draw() is None


def test_a_timeout_on_placing_creates_the_order_and_never_answers(airbus):
    assert airbus.http.put("/_simulator/faults", json={"timeout": 1.0, "seed": 1}).status_code == 200
    held = airbus.http.post("/api/v1/orders", json=airbus.archive("req-lost"))
    assert held.status_code == 504  # after timeout_hold_seconds (0 here): the caller saw no answer
    log = airbus.http.get("/_simulator/orders").json()
    assert log["by_customer_reference"] == {"req-lost": 1}
    airbus.http.put("/_simulator/faults", json={})
    found = airbus.http.get("/api/v1/orders", params={"customer_reference": "req-lost"}).json()["items"]
    assert [o["status"] for o in found] == ["received"]  # the look-up finds what the lost answer would have said


def test_a_5xx_or_429_fault_creates_nothing(airbus):
    airbus.http.put("/_simulator/faults", json={"5xx": 1.0})
    failed = airbus.http.post("/api/v1/orders", json=airbus.archive("req-5xx"))
    assert failed.status_code >= 500 and failed.json()["error"] == "unavailable"
    airbus.clock.advance(1)
    airbus.http.put("/_simulator/faults", json={"429": 1.0})
    throttled = airbus.http.post("/api/v1/orders", json=airbus.archive("req-429"))
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    airbus.http.put("/_simulator/faults", json={})
    assert airbus.http.get("/_simulator/orders").json()["by_customer_reference"] == {}


def test_fault_shares_over_one_are_refused(airbus):
    refused = airbus.http.put("/_simulator/faults", json={"5xx": 0.6, "429": 0.6})
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_faults"


def test_faults_come_from_the_settings_with_a_seed(make_airbus):
    a = make_airbus(faults={"5xx": 0.5}, seed=3)
    b = make_airbus(faults={"5xx": 0.5}, seed=3)
    codes = [[x.http.get("/api/v1/contracts").status_code for _ in range(30)] for x in (a, b)]
    assert codes[0] == codes[1] and set(codes[0]) == {200, 503}


def test_the_ordering_api_takes_one_call_a_second_and_logs_every_call(airbus):
    body = airbus.archive()
    assert airbus.http.post("/api/v1/prices", json=body).status_code == 200
    airbus.clock.advance(0.5)
    refused = airbus.http.post("/api/v1/orders", json=body)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert airbus.http.get("/api/v1/orders", params={"customer_reference": "x"}).status_code == 200  # a read
    airbus.clock.advance(0.5)
    assert airbus.http.post("/api/v1/orders", json=body).status_code == 201
    log = airbus.http.get("/_simulator/orders").json()
    assert len(log["ordering_calls"]) == 3 and log["by_customer_reference"] == {"req-1": 1}


def test_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRBUS_SIM_FAULTS", '{"5xx": 0.2, "timeout": 0.1, "429": 0.1}')
    monkeypatch.setenv("AIRBUS_SIM_WEATHER", '[{"outcome": "acquired", "coverage_percent": 100}]')
    monkeypatch.setenv("AIRBUS_SIM_API_KEYS", '["k1", "k2"]')
    monkeypatch.setenv("AIRBUS_SIM_STATE_DIR", str(tmp_path))
    s = Settings()
    assert s.faults == {"5xx": 0.2, "timeout": 0.1, "429": 0.1}
    assert [a.outcome for a in s.weather] == ["acquired"]
    assert [k.get_secret_value() for k in s.api_keys] == ["k1", "k2"] and s.state_dir == tmp_path


async def test_a_notification_is_signed_with_the_shared_secret_and_retried_until_received():
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(503 if len(received) < 3 else 204)

    notifier = Notifier("http://provisioning.test/api/provisioning/airbus/notifications", "shared", 4, 0.0,
                        httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    payload = {"order_id": "ORD-1", "customer_reference": "r", "status": "delivered", "event": "status",
               "at": "2026-06-01T10:00:00Z"}
    assert await notifier.send(payload) is True
    assert len(received) == 3
    body = received[-1].content
    assert json.loads(body) == payload
    expected = "sha256=" + hmac.new(b"shared", body, hashlib.sha256).hexdigest()
    assert received[-1].headers["X-Airbus-Signature"] == expected
    await notifier.close()


async def test_a_notification_nobody_takes_is_given_up_after_its_attempts():
    calls = []
    notifier = Notifier("http://nobody.test/", "s", 3, 0.0, httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: calls.append(r) or httpx.Response(500))))
    assert await notifier.send({"order_id": "ORD-1"}) is False
    assert len(calls) == 3
    await notifier.close()
