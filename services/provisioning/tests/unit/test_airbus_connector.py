"""The Airbus connector against a scripted Airbus (httpx.MockTransport): tokens, retries honouring
Retry-After, permanent errors with Airbus's message, the circuit breaker, one order per reference,
notification signatures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from provisioning_service.adapters.airbus import CLOSED, HALF_OPEN, OPEN, AirbusConnector, AirbusPolicy, CircuitBreaker
from provisioning_service.adapters.ordering_gate import LocalOrderingGate
from provisioning_service.service_layer.airbus_port import AirbusError, sign_notification, verify_notification
from pymongo.errors import ServerSelectionTimeoutError

FAST = AirbusPolicy(timeout=0.5, connect_timeout=0.5, retry_attempts=4, retry_initial=0.01, retry_max=0.05,
                    retry_jitter=0.0, retry_total=10.0, breaker_failures=3, breaker_reset=0.3, token_margin=60.0)
ORDER = {"customer_reference": "req-1", "kind": "archive", "mission": "PLEIADES",
         "items": [{"scene_id": "DS_1", "aoi": {"type": "Polygon", "coordinates": []}}]}
Handler = Callable[[httpx.Request], httpx.Response]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAirbusServer:
    """Tokens, orders by reference, and a script of failures per path."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.valid: set[str] = set()
        self.orders: list[dict] = []
        self.calls: list[tuple[float, str, str]] = []
        self.script: dict[tuple[str, str], list[Handler]] = {}
        self.expires_in = 3600

    def then(self, method: str, path: str, *answers: Handler) -> None:
        self.script.setdefault((method, path), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append((time.monotonic(), method, path))
        if path == "/api/v1/auth/token":
            if request.content != b"apikey=KEY":
                return httpx.Response(401, json={"error": "unauthorized", "message": "unknown API key"})
            self.tokens_issued += 1
            token = f"T{self.tokens_issued}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                             "expires_in": self.expires_in})
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"error": "unauthorized", "message": "token expired"})
        scripted = self.script.get((method, path))
        if scripted:
            return scripted.pop(0)(request)
        if path == "/api/v1/orders" and method == "GET":
            ref = request.url.params["customer_reference"]
            return httpx.Response(200, json={"items": [o for o in self.orders if o["customer_reference"] == ref]})
        if path == "/api/v1/orders" and method == "POST":
            return httpx.Response(201, json=self.create(json.loads(request.content)))
        if path == "/api/v1/contracts":
            return httpx.Response(200, json={"items": [{"id": "CTR-1", "remaining_credit": "250000.00",
                                                        "currency": "EUR", "missions": ["PLEIADES"]}]})
        if path == "/api/v1/prices":
            return httpx.Response(200, json={"price": "1234.50", "currency": "EUR", "area_km2": 10.0,
                                             "invoiced_km2": 25.0})
        return httpx.Response(404, json={"error": "not_found", "message": f"no {path}"})

    def create(self, body: dict) -> dict:
        order = {"id": f"ORD-{len(self.orders) + 1}", "customer_reference": body["customer_reference"],
                 "kind": body["kind"], "mission": body["mission"], "status": "received", "price": "100.00",
                 "area_km2": 10.0, "coverage_percent": None, "failure_reason": None,
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        self.orders.append(order)
        return order


def status(code: int, headers: dict | None = None, message: str = "boom") -> Handler:
    return lambda _r: httpx.Response(code, headers=headers, json={"error": "x", "message": message})


def timeout(_r: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer")


def connector(server: FakeAirbusServer, policy: AirbusPolicy = FAST, **kw) -> AirbusConnector:
    return AirbusConnector("http://airbus.test", "KEY", LocalOrderingGate(0.0), policy,
                           transport=httpx.MockTransport(server), **kw)


async def test_the_token_is_renewed_before_it_expires_and_once_on_401():
    server, clock = FakeAirbusServer(), Clock()
    server.expires_in = 100
    c = connector(server, AirbusPolicy(**{**FAST.__dict__, "token_margin": 10.0}), clock=clock)
    await c.contract()
    await c.contract()
    assert server.tokens_issued == 1
    clock.now += 89  # 11 s before expiry: still good
    await c.contract()
    assert server.tokens_issued == 1
    clock.now += 2  # 9 s before expiry: within the margin, renewed
    await c.contract()
    assert server.tokens_issued == 2
    server.valid.clear()  # Airbus forgot every token: one 401, a new token, the call goes through
    assert (await c.contract())["remaining_credit"] == Decimal("250000.00")
    assert server.tokens_issued == 3


async def test_a_wrong_api_key_is_a_permanent_error_with_airbus_message():
    server = FakeAirbusServer()
    c = AirbusConnector("http://airbus.test", "WRONG", LocalOrderingGate(0.0), FAST,
                        transport=httpx.MockTransport(server))
    with pytest.raises(AirbusError) as e:
        await c.contract()
    assert not e.value.transient and "unknown API key" in e.value.reason


async def test_5xx_timeouts_and_429_are_retried_and_retry_after_is_waited():
    server = FakeAirbusServer()
    server.then("GET", "/api/v1/contracts", status(503), timeout, status(429, {"Retry-After": "1"}))
    c = connector(server)
    started = time.monotonic()
    contract = await c.contract()
    assert contract["id"] == "CTR-1"
    calls = [t for t, m, p in server.calls if p == "/api/v1/contracts"]
    assert len(calls) == 4
    assert calls[3] - calls[2] >= 1.0  # Retry-After: 1 honoured
    assert calls[1] - calls[0] < 0.5  # the exponential backoff starts small
    assert time.monotonic() - started < 5


async def test_retries_are_bounded_then_transient():
    server = FakeAirbusServer()
    server.then("GET", "/api/v1/contracts", *[status(502)] * 10)
    c = connector(server, AirbusPolicy(**{**FAST.__dict__, "breaker_failures": 100}))
    with pytest.raises(AirbusError) as e:
        await c.contract()
    assert e.value.transient and e.value.status == 502
    assert len([p for _, _, p in server.calls if p == "/api/v1/contracts"]) == FAST.retry_attempts


async def test_a_retry_after_longer_than_the_budget_gives_up_at_once_as_transient():
    server = FakeAirbusServer()
    server.then("POST", "/api/v1/prices", status(429, {"Retry-After": "3600"}))
    c = connector(server)
    with pytest.raises(AirbusError) as e:
        await c.price(ORDER)
    assert e.value.transient and e.value.status == 429


async def test_other_4xx_are_permanent_with_airbus_message_and_not_retried():
    server = FakeAirbusServer()
    server.then("POST", "/api/v1/prices", status(422, message="an archive order holds 1 to 5 items"))
    c = connector(server)
    with pytest.raises(AirbusError) as e:
        await c.price(ORDER)
    assert not e.value.transient and e.value.status == 422
    assert e.value.reason == "an archive order holds 1 to 5 items"
    assert len([p for _, _, p in server.calls if p == "/api/v1/prices"]) == 1


async def test_place_order_looks_the_reference_up_first_and_never_places_twice():
    server = FakeAirbusServer()
    c = connector(server)
    first = await c.place_order(ORDER)
    again = await c.place_order(ORDER)
    assert first.id == again.id == "ORD-1" and first.price == Decimal("100.00")
    assert len(server.orders) == 1
    assert [m for _, m, p in server.calls if p == "/api/v1/orders"].count("POST") == 1


async def test_a_post_that_timed_out_after_airbus_created_the_order_is_found_not_placed_again():
    server = FakeAirbusServer()

    def created_then_silent(request: httpx.Request) -> httpx.Response:
        server.create(json.loads(request.content))
        raise httpx.ReadTimeout("no answer")

    server.then("POST", "/api/v1/orders", created_then_silent)
    c = connector(server)
    order = await c.place_order(ORDER)
    assert order.id == "ORD-1" and len(server.orders) == 1


async def test_concurrent_placements_of_one_reference_make_one_order():
    server = FakeAirbusServer()
    c = connector(server)
    orders = await asyncio.gather(*[c.place_order(ORDER) for _ in range(5)])
    assert {o.id for o in orders} == {"ORD-1"} and len(server.orders) == 1


async def test_the_breaker_opens_fails_fast_half_opens_and_closes():
    server = FakeAirbusServer()
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    c = connector(server, AirbusPolicy(**{**FAST.__dict__, "retry_attempts": 1}), meter=meter)

    def gauge() -> int:
        data = reader.get_metrics_data()
        points = [p for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
                  if m.name == "airbus.circuit.state" for p in m.data.data_points]
        return points[-1].value

    assert gauge() == CLOSED
    server.then("GET", "/api/v1/contracts", *[status(500)] * 3)
    for _ in range(3):
        with pytest.raises(AirbusError):
            await c.contract()
    assert c.breaker.state == OPEN and gauge() == OPEN
    before = len(server.calls)
    with pytest.raises(AirbusError) as e:
        await c.contract()
    assert e.value.transient and "circuit open" in e.value.reason
    assert len(server.calls) == before  # fast-fail: Airbus not called
    await asyncio.sleep(0.35)
    assert gauge() == HALF_OPEN
    server.then("GET", "/api/v1/contracts", status(500))  # the probe fails: open again
    with pytest.raises(AirbusError):
        await c.contract()
    assert c.breaker.state == OPEN
    await asyncio.sleep(0.35)
    assert (await c.contract())["id"] == "CTR-1"  # the probe succeeds: closed
    assert c.breaker.state == CLOSED and gauge() == CLOSED


def test_half_open_lets_one_probe_through_at_a_time_and_429_is_not_a_failure():
    clock = Clock()
    b = CircuitBreaker(failures=2, reset=10, clock=clock)
    b.record(False)
    b.record(None)  # a 429: Airbus is alive and busy
    b.record(True)
    b.record(False)
    assert b.state == CLOSED  # the success in between reset the count
    b.record(False)
    assert b.state == OPEN and not b.allow()
    clock.now += 10
    assert b.state == HALF_OPEN
    assert b.allow() and not b.allow()
    b.record(True)
    assert b.state == CLOSED and b.allow()


async def test_ordering_calls_are_paced_by_the_gate():
    server = FakeAirbusServer()
    c = AirbusConnector("http://airbus.test", "KEY", LocalOrderingGate(0.2), FAST,
                        transport=httpx.MockTransport(server))
    await asyncio.gather(*[c.price(ORDER) for _ in range(4)])
    times = [t for t, _, p in server.calls if p == "/api/v1/prices"]
    assert len(times) == 4
    assert all(b - a >= 0.19 for a, b in pairwise(times))


def test_notification_signatures():
    secret, body = b"s3cret", b'{"order_id": "ORD-1", "status": "delivered"}'
    good = sign_notification(secret, body)
    assert good.startswith("sha256=") and verify_notification(secret, body, good)
    assert verify_notification(secret, body, good.upper().replace("SHA256=", "sha256="))
    assert not verify_notification(secret, body + b" ", good)
    assert not verify_notification(b"other", body, good)
    assert not verify_notification(secret, body, None)
    assert not verify_notification(secret, body, "")
    assert not verify_notification(secret, body, good.removeprefix("sha256="))
    assert not verify_notification(secret, body, "sha1=" + good.removeprefix("sha256="))
    assert not verify_notification(b"", body, sign_notification(b"", body))
    assert not verify_notification(secret, body, "sha256=é")


async def test_a_placement_found_within_the_turn_does_not_make_the_next_ordering_call_wait():
    server = FakeAirbusServer()
    server.create(ORDER)  # placed meanwhile by another replica: the first look-up misses it (scripted)
    server.then("GET", "/api/v1/orders", lambda _r: httpx.Response(200, json={"items": []}))
    c = AirbusConnector("http://airbus.test", "KEY", LocalOrderingGate(1.0), FAST,
                        transport=httpx.MockTransport(server))
    await c.price(ORDER)
    started = time.monotonic()
    assert (await c.place_order(ORDER)).id == "ORD-1"  # waited for the turn after the price: 1 s
    await c.price(ORDER)  # the turn made no call: no second wait
    assert 0.95 <= time.monotonic() - started < 1.8  # not 2 s
    assert [m for _, m, p in server.calls if p == "/api/v1/orders"].count("POST") == 0


async def test_an_ordering_gate_whose_database_is_down_is_a_transient_error():
    class DownGate:
        def turn(self):
            raise ServerSelectionTimeoutError("no FerretDB")

    server = FakeAirbusServer()
    c = AirbusConnector("http://airbus.test", "KEY", DownGate(), FAST, transport=httpx.MockTransport(server))
    with pytest.raises(AirbusError) as e:
        await c.price(ORDER)
    assert e.value.transient and "ordering gate" in e.value.reason
