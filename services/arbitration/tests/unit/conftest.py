"""An in-memory case repository with the Mongo one's semantics: duplicate ids refused, optimistic
version check, an incoming event applied once, the pace counting each decided case once per day."""

from __future__ import annotations

import copy
from collections.abc import Set
from datetime import UTC, date, datetime

import pytest
from arbitration_service.domain.model import AutoRule, Case, Status
from arbitration_service.service_layer.context import Arbitration, QueuePolicy

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class InMemoryCases:
    def __init__(self) -> None:
        self.rows: dict[str, Case] = {}
        self.published: list = []
        self.applied: set[tuple[str, str]] = set()
        self.pace: dict[tuple[str, date], set[str]] = {}

    async def add(self, case: Case) -> bool:
        if case.id in self.rows:
            return False
        self.published += case.events
        case.events.clear()
        case.version = 1
        self.rows[case.id] = copy.deepcopy(case)
        return True

    async def get(self, case_id: str, for_change: bool = False) -> Case | None:
        found = self.rows.get(case_id)
        return copy.deepcopy(found) if found else None

    async def save(self, case: Case, applied_event: str | None = None) -> bool:
        if applied_event and (case.id, applied_event) in self.applied:
            return True
        if self.rows[case.id].version != case.version:
            return False
        self.published += case.events
        case.events.clear()
        case.version += 1
        if applied_event:
            self.applied.add((case.id, applied_event))
        self.rows[case.id] = copy.deepcopy(case)
        return True

    async def list(self, cells: Set[str] | None, limit: int) -> list[Case]:
        return [c for c in self.rows.values() if cells is None or c.cell in cells][:limit]

    async def in_review(self, cell: str, limit: int) -> tuple[list[Case], int]:
        found = [copy.deepcopy(c) for c in self.rows.values() if c.cell == cell and c.status is Status.IN_REVIEW]
        return found[:limit], len(found)

    async def count_decision(self, cell: str, day: date, case_id: str) -> None:
        self.pace.setdefault((cell, day), set()).add(case_id)

    async def decisions_since(self, cell: str, since: date) -> int:
        return sum(len(ids) for (c, day), ids in self.pace.items() if c == cell and day >= since)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(clock: Clock) -> Arbitration:
    """No automatic rule: every case waits for a person."""
    return Arbitration(InMemoryCases(), AutoRule(False), clock=clock, queue=QueuePolicy(14, 2.0, 500))
