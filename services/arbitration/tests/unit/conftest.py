"""In-memory repositories with the Mongo ones' semantics. Cases: duplicate ids refused, optimistic
version check, an incoming event applied once, the pace counting each decided case once per day, one
decision claim per case. Ledgers: a version per (cell, period), a cause applied once, a case placed
once."""

from __future__ import annotations

import copy
from collections.abc import Set
from datetime import UTC, date, datetime

import pytest
from arbitration_service.domain.ledger import Ledger, parse
from arbitration_service.domain.model import Case, Status
from arbitration_service.domain.policy import QuotaPolicy
from arbitration_service.service_layer import quotas
from arbitration_service.service_layer.context import Arbitration, QueuePolicy
from arbitration_service.service_layer.ports import Claim
from arbitration_service.settings import Settings

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
QUOTA_NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


class InMemoryCases:
    def __init__(self) -> None:
        self.rows: dict[str, Case] = {}
        self.published: list = []
        self.applied: set[tuple[str, str]] = set()
        self.pace: dict[tuple[str, date], set[str]] = {}
        self.claims: dict[str, Claim] = {}

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

    async def claim(self, claim: Claim) -> Claim | None:
        held = self.claims.setdefault(claim.case_id, claim)
        return None if held is claim else held

    async def unclaim(self, claim: Claim) -> None:
        if self.claims.get(claim.case_id) == claim:
            del self.claims[claim.case_id]

    async def claims_before(self, at: datetime, limit: int) -> list[Claim]:
        return [c for c in self.claims.values() if c.at < at][:limit]


class InMemoryLedgers:
    """Totals per (cell, period) at a version, entries applied once (their id is the cause)."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[dict[str, int], int]] = {}  # ledger id -> (its entries, version)
        self.placed: dict[str, dict[str, str]] = {}
        self.published: list = []

    async def get(self, cell, period, case=None, fresh=True):
        entries, version = self.docs.get(f"{cell}:{period}", ({}, 0))
        totals = balances_by_kind(entries)
        mine = {e: m2 for e, m2 in entries.items() if parse(e)[1] == case}
        return Ledger(cell, period, mine, totals=totals), version

    async def save(self, ledger, version):
        for entry in ledger.added:
            entries, at = self.docs.get(ledger.id, ({}, 0))
            if entry in entries:
                continue
            if at != version:
                ledger.added.clear()
                ledger.events.clear()
                return False
            self.docs[ledger.id] = ({**entries, entry: ledger.entries[entry]}, version + 1)
            version += 1
        self.published += ledger.events
        ledger.added.clear()
        ledger.events.clear()
        return True

    async def drop(self, entry, cell, period):
        pass

    async def unapplied(self, before, limit=100):
        return []

    async def place(self, case, cell, period):
        found = self.placed.setdefault(case, {"cell": cell, "period": period})
        return (found["cell"], found["period"]) if "cell" in found else None

    async def unplace(self, case, cell, period):
        if self.placed.get(case) == {"cell": cell, "period": period}:
            del self.placed[case]

    async def placement(self, case):
        found = self.placed.get(case, {})
        return (found["cell"], found["period"]) if "cell" in found else None

    async def close(self, case, reason):
        found = self.placed.setdefault(case, {"closed": reason})
        return (found["cell"], found["period"]) if "cell" in found else None


def balances_by_kind(entries: dict[str, int]) -> dict[str, int]:
    totals = {"hold": 0, "commit": 0, "release": 0}
    for entry, m2 in entries.items():
        totals[parse(entry)[0]] += m2
    return totals


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
    """No automatic rule (the production default): every case waits for a person."""
    return Arbitration(InMemoryCases(), clock=clock, queue=QueuePolicy(14, 2.0, 500))


@pytest.fixture
def q() -> quotas.Quotas:
    """The default policy, with 1000 km² a quarter for Pléiades in the pleiades-science cell."""
    config = Settings().arbitration_quota_policy
    config["budgets_km2"]["pleiades-science"]["pleiades"] = [{"from": "2016-01-01", "value": 1000}]
    return quotas.Quotas(InMemoryLedgers(), QuotaPolicy.from_config(config), lambda: QUOTA_NOW)
