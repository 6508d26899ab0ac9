"""The queue of a cell: its cases in review, by priority (urgent, then high, then standard) then age
(oldest first), each with the date a decision may be expected at the cell's recent pace. The
requester's place (``place``) is read from the same queue, so it is what the cell sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from arbitration_service.domain.model import Case, Status, priority_rank


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
    return -priority_rank(case.priority), case.opened_at, case.id


def queue(cases: Iterable[Case], pace: Pace, now: datetime) -> list[QueueEntry]:
    waiting = sorted((c for c in cases if c.status is Status.IN_REVIEW), key=queue_order)
    return [QueueEntry(i, c, pace.expected_date(i, now)) for i, c in enumerate(waiting, 1)]


def place(cases: Iterable[Case], case_id: str, pace: Pace, now: datetime) -> QueueEntry | None:
    """The entry of ``case_id`` in the queue of ``cases`` (``None``: not waiting in it)."""
    return next((e for e in queue(cases, pace, now) if e.case.id == case_id), None)
