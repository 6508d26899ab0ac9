"""What every use case gets: the request repository, the entity read model, the clock, the
configuration in force, and the other services it asks (catalogue, arbitration) through ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from requests_service.domain.rules import IntakeRules, Tariff
from requests_service.service_layer.ports import (
    Allowances,
    Catalogue,
    EntityDirectory,
    Queues,
    RequestRepository,
    TaskingIndex,
)


def utcnow() -> datetime:
    """Now, to the millisecond: what MongoDB keeps, so that what is announced is what is read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Requests:
    requests: RequestRepository
    entities: EntityDirectory
    clock: Callable[[], datetime] = utcnow
    # the configuration in force on a day (Settings.requests_rules / requests_tariffs)
    rules: Callable[[date], IntakeRules] = lambda day: IntakeRules()
    tariff: Callable[[date], Tariff] = lambda day: Tariff()
    # other services over HTTP, and the pending-tasking projection (None: not wired, e.g. a unit test
    # that does not need them)
    catalogue: Catalogue | None = None
    allowances: Allowances | None = None
    queues: Queues | None = None
    tasking_index: TaskingIndex | None = None
