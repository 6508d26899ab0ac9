"""What the provisioning flow needs from Airbus (docs/airbus-api.md): the httpx connector in production
(``adapters/airbus.py``), an in-memory fake in unit tests (``tests/fakes.py``).

Every call either answers or raises :class:`AirbusError`: ``transient`` says whether trying again later
may succeed (time-outs, 5xx, 429 after the connector's own retries, an open circuit); a permanent error
carries Airbus's own message as its ``reason``."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

SIGNATURE_HEADER = "X-Airbus-Signature"


class AirbusError(Exception):
    def __init__(self, reason: str, transient: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class AirbusOrder:
    id: str
    customer_reference: str
    kind: str
    mission: str
    status: str  # received → (tasking: acquiring) → production → delivered, or failed / cancelled
    price: Decimal | None = None
    area_km2: float | None = None
    coverage_percent: float | None = None
    failure_reason: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Acquisition:
    attempt: int
    acquired_at: datetime
    outcome: str  # acquired | cloudy
    coverage_percent: float  # cumulative over the ordered area


@dataclass(frozen=True)
class Feasibility:
    id: str
    feasible: bool
    automation: str  # AUTOMATIC | MANUAL
    classification: str  # EASY | CHALLENGING
    expires_at: datetime | None
    reason: str | None = None


@dataclass(frozen=True)
class Price:
    price: Decimal
    area_km2: float
    invoiced_km2: float


class Airbus(Protocol):
    async def contract(self) -> dict[str, Any]:
        """The contract: ``id``, ``remaining_credit`` (Decimal), ``currency``, ``missions``."""

    async def price(self, order: dict[str, Any]) -> Price:
        """The price of an order body (docs/airbus-api.md "Orders"; ``customer_reference`` not needed)."""

    async def feasibility(self, tasking: dict[str, Any]) -> Feasibility: ...

    async def find_order(self, customer_reference: str) -> AirbusOrder | None:
        """The order placed with this customer reference (the request id), if any."""

    async def place_order(self, order: dict[str, Any]) -> AirbusOrder:
        """Look the order's ``customer_reference`` up first and place it only if none exists: calling this
        twice (or again after a crash) never creates a second order."""

    async def order(self, order_id: str) -> AirbusOrder: ...

    async def acquisitions(self, order_id: str, since: int = 0) -> list[Acquisition]:
        """A tasking's acquisition attempts after attempt number ``since``."""

    async def delivery(self, order_id: str) -> bytes:
        """The delivered product package (a zip)."""

    async def cancel(self, order_id: str) -> AirbusOrder: ...


def sign_notification(secret: bytes, body: bytes) -> str:
    """The ``X-Airbus-Signature`` value of a notification body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_notification(secret: bytes, body: bytes, signature_header: str | None) -> bool:
    """Whether a notification's ``X-Airbus-Signature`` is the HMAC-SHA256 of its raw body with the shared
    secret (compared in constant time). No secret configured refuses everything."""
    if not secret or not signature_header:
        return False
    scheme, _, given = signature_header.strip().partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))
