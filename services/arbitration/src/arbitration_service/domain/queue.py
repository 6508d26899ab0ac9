"""The queue of a cell: its cases in review, by priority (higher first; none: all equal) then age
(oldest first), each with the date a decision may be expected at the cell's recent pace."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from arbitration_service.domain.model import Case, Status


@dataclass(frozen=True)
class Pace:
    """Final decisions by people per day: measured over the cell's last ``days``, or the
    configured default when the cell decided nothing in that time."""

    decisions_per_day: float
    measured: bool

    @classmethod
    def of(cls, decisions: int, days: int, default_per_day: float) -> Pace:
        if decisions > 0 and days > 0:
            return cls(decisions / days, True)
        return cls(default_per_day, False)

    def expected_date(self, position: int, now: datetime) -> date:
        """When the case at ``position`` (1-based) may be decided, if the cell keeps this pace."""
        return (now + timedelta(days=position / self.decisions_per_day)).date()


@dataclass(frozen=True)
class QueueEntry:
    position: int
    case: Case
    expected_decision_date: date


def queue_order(case: Case) -> tuple[int, datetime, str]:
    return -(case.priority or 0), case.opened_at, case.id


def queue(cases: Iterable[Case], pace: Pace, now: datetime) -> list[QueueEntry]:
    waiting = sorted((c for c in cases if c.status is Status.IN_REVIEW), key=queue_order)
    return [QueueEntry(i, c, pace.expected_date(i, now)) for i, c in enumerate(waiting, 1)]
