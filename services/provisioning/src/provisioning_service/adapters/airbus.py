"""The Airbus connector (docs/airbus-api.md) over httpx, implementing the port
``service_layer.airbus_port.Airbus``.

- **Token:** the API key is exchanged for a bearer token, renewed ``token_margin`` before it expires and
  once more when Airbus answers 401.
- **Retries:** time-outs, transport errors, 5xx and 429 are tried again with exponential backoff and jitter
  (stamina), waiting at least ``Retry-After`` when Airbus gives one; bounded in attempts and total time,
  after which the call raises ``AirbusError(transient=True)``. Any other 4xx raises at once
  ``AirbusError(transient=False)`` with Airbus's message.
- **Circuit breaker:** after ``breaker_failures`` failed attempts in a row (time-outs, transport errors, 5xx)
  the circuit opens and every call fails fast (transient) for ``breaker_reset`` seconds; then one call goes
  through (half-open) and its outcome closes or reopens it. Its state is the gauge ``airbus.circuit.state``
  (0 closed, 1 open, 2 half-open).
- **Rates:** ordering calls take a turn of the :class:`OrderingGate` (shared by every replica); reads are
  paced to ``reads_per_second`` per process.
- **Exactly one order per customer reference:** ``place_order`` looks the reference up and posts only when
  none exists, both within one ordering turn (so two replicas placing the same order see each other's),
  and looks again before every retry (a time-out may have created the order).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
import stamina
from opentelemetry import metrics
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from provisioning_service.adapters.ordering_gate import OrderingGate, TurnOver
from provisioning_service.service_layer.airbus_port import (
    Acquisition,
    AirbusError,
    AirbusOrder,
    Feasibility,
    Price,
)
from provisioning_service.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
CLOSED, OPEN, HALF_OPEN = 0, 1, 2
_STATE_NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half-open"}


class GateTurn(Protocol):
    def unused(self) -> None: ...


class Gate(Protocol):
    def turn(self) -> AbstractAsyncContextManager[GateTurn]: ...


@dataclass(frozen=True)
class AirbusPolicy:
    timeout: float = 20.0
    connect_timeout: float = 5.0
    delivery_timeout: float = 120.0
    token_margin: float = 60.0
    retry_attempts: int = 6
    retry_initial: float = 0.5
    retry_max: float = 30.0
    retry_jitter: float = 0.5
    retry_total: float = 120.0
    breaker_failures: int = 5
    breaker_reset: float = 30.0
    reads_per_second: float = 100.0

    @classmethod
    def from_settings(cls, s: Settings) -> AirbusPolicy:
        return cls(s.airbus_timeout_seconds, s.airbus_connect_timeout_seconds, s.airbus_delivery_timeout_seconds,
                   s.airbus_token_margin_seconds, s.airbus_retry_attempts, s.airbus_retry_initial_seconds,
                   s.airbus_retry_max_seconds, s.airbus_retry_jitter_seconds, s.airbus_retry_total_seconds,
                   s.airbus_breaker_failures, s.airbus_breaker_reset_seconds, s.airbus_reads_per_second)


class CircuitBreaker:
    def __init__(self, failures: int, reset: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures, self.reset, self.clock = failures, reset, clock
        self._state, self._failed, self._opened_at, self._probing = CLOSED, 0, 0.0, False

    @property
    def state(self) -> int:
        if self._state == OPEN and self.clock() - self._opened_at >= self.reset:
            self._move(HALF_OPEN)
            self._probing = False
        return self._state

    def allow(self) -> bool:
        """Whether a call may go to Airbus now (in half-open, only one at a time)."""
        state = self.state
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record(self, ok: bool | None) -> None:
        """An allowed call's outcome: ``True`` Airbus answered, ``False`` it failed, ``None`` neither (429)."""
        if self._state == HALF_OPEN:
            self._probing = False
        if ok is None:
            return
        if ok:
            self._failed = 0
            if self._state != CLOSED:
                self._move(CLOSED)
            return
        self._failed += 1
        if self._state == HALF_OPEN or self._failed >= self.failures:
            self._opened_at = self.clock()
            self._move(OPEN)

    def _move(self, state: int) -> None:
        if state != self._state:
            log.warning("Airbus circuit %s → %s", _STATE_NAMES[self._state], _STATE_NAMES[state])
            self._state = state


class Pacer:
    """At most ``rate`` starts per second in this process."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.step, self.clock, self._next = 1.0 / rate, clock, 0.0

    async def wait(self) -> None:
        now = self.clock()
        at = max(now, self._next)
        self._next = at + self.step
        if at > now:
            await asyncio.sleep(at - now)


class _Transient(Exception):
    """One attempt failed in a way worth trying again (after ``retry_after`` seconds if Airbus said so)."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after, self.status = reason, retry_after, status


class AirbusConnector:
    def __init__(self, base_url: str, api_key: str, gate: Gate, policy: AirbusPolicy | None = None, *,
                 meter: metrics.Meter | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = p = policy or AirbusPolicy()
        self.api_key, self.gate, self.clock = api_key, gate, clock
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport,
                                      timeout=httpx.Timeout(p.timeout, connect=p.connect_timeout))
        self.breaker = CircuitBreaker(p.breaker_failures, p.breaker_reset, clock)
        self.reads = Pacer(p.reads_per_second, clock)
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = asyncio.Lock()
        if meter is not None:
            meter.create_observable_gauge(
                "airbus.circuit.state", callbacks=[self._observe_circuit],
                description="the Airbus connector's circuit breaker: 0 closed, 1 open, 2 half-open")

    def _observe_circuit(self, _options: metrics.CallbackOptions) -> list[metrics.Observation]:
        return [metrics.Observation(self.breaker.state)]

    async def close(self) -> None:
        await self.http.aclose()

    # -- the port --------------------------------------------------------------------------------
    async def contract(self) -> dict[str, Any]:
        data = await self._call("GET", "/api/v1/contracts")
        items = data.get("items") or []
        if not items:
            raise AirbusError("Airbus returned no contract", transient=False)
        c = dict(items[0])
        c["remaining_credit"] = _money(c.get("remaining_credit"))
        return c

    async def price(self, order: dict[str, Any]) -> Price:
        body = {k: v for k, v in order.items() if k != "customer_reference"}
        d = await self._call("POST", "/api/v1/prices", json=body, ordering=True)
        price = _money(d.get("price"))
        if price is None:
            raise AirbusError(f"Airbus answered a price without an amount: {d!r:.200}", transient=False)
        return Price(price, float(d.get("area_km2") or 0.0), float(d.get("invoiced_km2") or 0.0))

    async def feasibility(self, tasking: dict[str, Any]) -> Feasibility:
        d = await self._call("POST", "/api/v1/feasibility", json=tasking, ordering=True)
        return Feasibility(str(d["id"]), bool(d.get("feasible")), str(d.get("automation", "")),
                           str(d.get("classification", "")), _time(d.get("expires_at")), d.get("reason"))

    async def find_order(self, customer_reference: str) -> AirbusOrder | None:
        d = await self._call("GET", "/api/v1/orders", params={"customer_reference": customer_reference})
        return self._oldest(customer_reference, d.get("items") or [])

    async def place_order(self, order: dict[str, Any]) -> AirbusOrder:
        ref = order.get("customer_reference")
        if not ref:
            raise AirbusError("an order needs its customer reference (the request id)", transient=False)
        found = await self.find_order(ref)  # placed before (a crash after the POST): no ordering turn needed
        if found is not None:
            return found

        async def attempt() -> AirbusOrder:
            async with self._ordering_turn() as turn:
                # Within the turn: another replica placing the same reference has finished its POST (or
                # timed out after Airbus created the order), so the look-up sees it; and every retry looks again.
                d = await self._once("GET", "/api/v1/orders", params={"customer_reference": ref})
                found = self._oldest(ref, d.get("items") or [])
                if found is not None:
                    turn.unused()
                    return found
                created = await self._once("POST", "/api/v1/orders", json=order)
                log.info("Airbus order %s placed for %s", created.get("id"), ref)
                return _order(created)

        return await self._retried("POST /api/v1/orders", attempt)

    async def order(self, order_id: str) -> AirbusOrder:
        return _order(await self._call("GET", f"/api/v1/orders/{quote(order_id, safe='')}"))

    async def acquisitions(self, order_id: str, since: int = 0) -> list[Acquisition]:
        d = await self._call("GET", f"/api/v1/orders/{quote(order_id, safe='')}/acquisitions",
                             params={"since": since})
        return [Acquisition(int(a["attempt"]), _time(a.get("acquired_at")) or datetime.now(UTC),
                            str(a.get("outcome", "")), float(a.get("coverage_percent") or 0.0))
                for a in d.get("items") or []]

    async def delivery(self, order_id: str) -> bytes:
        return await self._call("GET", f"/api/v1/orders/{quote(order_id, safe='')}/delivery", raw=True,
                                timeout=self.policy.delivery_timeout)

    async def cancel(self, order_id: str) -> AirbusOrder:
        return _order(await self._call("POST", f"/api/v1/orders/{quote(order_id, safe='')}/cancel", ordering=True))

    # -- transport -------------------------------------------------------------------------------
    def _oldest(self, ref: str, items: list[dict[str, Any]]) -> AirbusOrder | None:
        mine = [i for i in items if i.get("customer_reference") == ref]
        if len(mine) > 1:
            log.error("Airbus holds %d orders for customer reference %s", len(mine), ref)
        mine.sort(key=lambda i: str(i.get("created_at") or ""))
        return _order(mine[0]) if mine else None

    def _backoff(self, exc: Exception) -> bool | float:
        if not isinstance(exc, _Transient):
            return False
        if exc.retry_after is None:
            return True
        if exc.retry_after > self.policy.retry_total:
            return False  # Airbus asks for a longer pause than this call may take: the caller tries later
        return exc.retry_after + random.uniform(0, self.policy.retry_jitter)  # noqa: S311 (jitter)

    async def _call(self, method: str, path: str, *, ordering: bool = False, **kw: Any) -> Any:
        async def attempt() -> Any:
            if ordering:
                async with self._ordering_turn():
                    return await self._once(method, path, **kw)
            await self.reads.wait()
            return await self._once(method, path, **kw)

        return await self._retried(f"{method} {path}", attempt)

    async def _retried(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        p = self.policy
        try:
            async for retry in stamina.retry_context(
                    on=self._backoff, attempts=p.retry_attempts, timeout=p.retry_total,
                    wait_initial=p.retry_initial, wait_max=p.retry_max, wait_jitter=p.retry_jitter):
                with retry:
                    return await attempt()
        except _Transient as exc:
            raise AirbusError(f"Airbus did not answer {what}: {exc.reason}", transient=True,
                              status=exc.status) from exc
        raise AssertionError("unreachable")  # stamina re-raises the last failure

    @asynccontextmanager
    async def _ordering_turn(self) -> AsyncIterator[GateTurn]:
        self._fail_fast()  # an open circuit takes no ordering turn
        async with AsyncExitStack() as stack:
            try:
                turn = await stack.enter_async_context(self.gate.turn())
            except PyMongoError as exc:
                raise AirbusError(f"the Airbus ordering gate's database did not answer: {type(exc).__name__}",
                                  transient=True) from exc
            try:
                yield turn
            except TurnOver as exc:
                raise _Transient(str(exc)) from exc

    def _fail_fast(self) -> None:
        if self.breaker.state == OPEN:
            raise AirbusError("Airbus keeps failing: circuit open, calls refused for now", transient=True)

    async def _once(self, method: str, path: str, *, raw: bool = False, timeout: float | None = None,
                    **kw: Any) -> Any:
        """One attempt, with the token (renewed once on 401) and through the circuit breaker."""
        if not self.breaker.allow():
            self._fail_fast()
            raise AirbusError("Airbus is being tried again (circuit half-open): calls refused for now", transient=True)
        try:
            token, r = await self._send(method, path, timeout, **kw)
            if r.status_code == 401:
                self._forget_token(token)
                _, r = await self._send(method, path, timeout, **kw)
        except _Transient as exc:
            self.breaker.record(None if exc.status == 429 else False)
            raise
        except BaseException:
            self.breaker.record(None)
            raise
        self.breaker.record(True)
        if r.status_code >= 400:
            raise AirbusError(_message(r), transient=False, status=r.status_code)
        if raw:
            return r.content
        try:
            return r.json()
        except ValueError as exc:
            raise AirbusError(f"Airbus answered {method} {path} with no JSON", transient=False) from exc

    async def _send(self, method: str, path: str, timeout: float | None,
                    **kw: Any) -> tuple[str, httpx.Response]:
        token = await self._bearer()
        extra = {} if timeout is None else {"timeout": httpx.Timeout(timeout, connect=self.policy.connect_timeout)}
        return token, _classified(await _request(self.http, method, path,
                                                 headers={"Authorization": f"Bearer {token}"}, **extra, **kw))

    async def _bearer(self) -> str:
        async with self._token_lock:
            if self._token is None or self.clock() >= self._token_renew_at:
                r = _classified(await _request(self.http, "POST", "/api/v1/auth/token", data={"apikey": self.api_key}))
                if r.status_code >= 400:
                    raise AirbusError(f"Airbus refused the API key: {_message(r)}", transient=False,
                                      status=r.status_code)
                d = r.json()
                lifetime = float(d.get("expires_in") or 0)
                margin = min(self.policy.token_margin, lifetime / 2)
                self._token, self._token_renew_at = str(d["access_token"]), self.clock() + lifetime - margin
            return self._token

    def _forget_token(self, refused: str) -> None:
        if self._token == refused:  # calls refused together renew it once
            self._token = None


def build_airbus(settings: Settings, database: AsyncDatabase,
                 meter: metrics.Meter | None = None) -> tuple[AirbusConnector, OrderingGate]:
    """The connector of the composition root, from the service's settings, with the ordering gate shared by
    every replica in ``database`` (collection ``airbus_ordering``). Returns the connector (``close()`` it on
    stop) and the gate (give it to ``create_app(indexed=...)``)."""
    one_call = settings.airbus_timeout_seconds + settings.airbus_connect_timeout_seconds
    if settings.airbus_ordering_lease_seconds <= one_call:
        raise ValueError("AIRBUS_ORDERING_LEASE_SECONDS must exceed a call's time-out (AIRBUS_TIMEOUT_SECONDS + "
                         "AIRBUS_CONNECT_TIMEOUT_SECONDS): a live holder's turn would be taken over")
    gate = OrderingGate(database["airbus_ordering"], interval=settings.airbus_ordering_interval_seconds,
                        lease=settings.airbus_ordering_lease_seconds)
    connector = AirbusConnector(settings.airbus_url, settings.airbus_api_key.get_secret_value(), gate,
                                AirbusPolicy.from_settings(settings), meter=meter)
    return connector, gate


async def _request(http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
    try:
        return await http.request(method, path, **kw)
    except httpx.TimeoutException as exc:
        raise _Transient(f"time-out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc


def _classified(r: httpx.Response) -> httpx.Response:
    if r.status_code == 429 or r.status_code >= 500:
        raise _Transient(f"{r.status_code} {_message(r)}", _retry_after(r.headers.get("retry-after")), r.status_code)
    return r


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(r: httpx.Response) -> str:
    try:
        d = r.json()
    except ValueError:
        return r.text[:300] or f"HTTP {r.status_code}"
    if isinstance(d, dict):
        return str(d.get("message") or d.get("error") or d)[:300]
    return str(d)[:300]


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _order(d: dict[str, Any]) -> AirbusOrder:
    def num(key: str) -> float | None:
        return None if d.get(key) is None else float(d[key])

    return AirbusOrder(str(d["id"]), str(d.get("customer_reference", "")), str(d.get("kind", "")),
                       str(d.get("mission", "")), str(d.get("status", "")), _money(d.get("price")),
                       num("area_km2"), num("coverage_percent"), d.get("failure_reason"), _time(d.get("updated_at")))

