"""What every use case gets: the repositories, Airbus, the object store, the package reader, the rules
of the flow, the clock and the source of order ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from uuid6 import uuid7

from provisioning_service.service_layer.airbus_port import Airbus
from provisioning_service.service_layer.ports import ObjectStore, OrderRepository, ProductReader, RequestDirectory


def utcnow() -> datetime:
    """Now, to the millisecond: what MongoDB keeps, so that what is announced is what is read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_order_id() -> str:
    return str(uuid7())


@dataclass(frozen=True)
class FlowRules:
    auto_confirm: bool = False  # an accepted request's order is confirmed without an operator
    price_tolerance: float = 0.05  # share by which Airbus's price / km² may exceed the quote's
    poll_initial_seconds: float = 5.0  # first look at a placed order; doubled while nothing changes
    poll_max_seconds: float = 300.0
    retry_seconds: float = 10.0  # after a transient failure (doubled likewise, up to poll_max_seconds)
    batch: int = 20  # orders driven per round of the worker


@dataclass(frozen=True)
class Provisioning:
    orders: OrderRepository
    requests: RequestDirectory | None = None
    airbus: Airbus | None = None
    store: ObjectStore | None = None
    reader: ProductReader | None = None
    rules: FlowRules = field(default_factory=FlowRules)
    notification_secret: bytes = b""  # the shared secret of Airbus notifications' signatures
    clock: Callable[[], datetime] = utcnow
    new_id: Callable[[], str] = new_order_id
