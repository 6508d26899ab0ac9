"""What every use case gets: the repository, the clock and the source of order ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from uuid6 import uuid7

from provisioning_service.service_layer.ports import OrderRepository


def utcnow() -> datetime:
    """Now, to the millisecond: what MongoDB keeps, so that what is announced is what is read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_order_id() -> str:
    return str(uuid7())


@dataclass(frozen=True)
class Provisioning:
    orders: OrderRepository
    clock: Callable[[], datetime] = utcnow
    new_id: Callable[[], str] = new_order_id
