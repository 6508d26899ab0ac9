"""What every use case gets: the repository, the cells' automatic rules, the queue's policy, the clock, and
the quota ledger acceptances hold (``None``: no quota is checked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from arbitration_service.domain.auto_rules import AutoRules
from arbitration_service.service_layer.packages import Packages
from arbitration_service.service_layer.ports import CaseRepository
from arbitration_service.service_layer.quotas import Quotas


def utcnow() -> datetime:
    """Now, to the millisecond: what MongoDB keeps, so that what is announced is what is read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class QueuePolicy:
    pace_days: int = 14  # the cell's pace is measured over its last days
    default_decisions_per_day: float = 2.0  # when it decided nothing in that time
    max_cases: int = 500  # the cases of a cell in review read at most for one queue


@dataclass(frozen=True)
class Arbitration:
    cases: CaseRepository
    rules: AutoRules = field(default_factory=AutoRules)  # none: every case waits for a person
    clock: Callable[[], datetime] = utcnow
    queue: QueuePolicy = field(default_factory=QueuePolicy)
    quotas: Quotas | None = None
    packages: Packages | None = None  # prepaid packages: an acceptance paid from one draws its km²
    settle_after: timedelta = timedelta(seconds=30)  # a decision claimed this long ago is completed by the sweep
