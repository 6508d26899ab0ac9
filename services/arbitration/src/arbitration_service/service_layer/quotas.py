"""Use cases of the quota ledger: hold on acceptance, commit on delivery, release on cancellation,
and the public burn-down.

Each change reads the totals of the (cell, period) and the case's own entries, decides, and applies
its entry to the totals at their next version; when another writer (another replica) took that
version first, it reads again and decides again, so a hold is checked against the budget as it
really is: concurrent acceptances never overdraw. An entry recorded but never applied (its writer
stopped) is applied by whoever asks for it again, or decided again by ``settle`` after a minute.

Where a case's quota lives (cell, period) is placed once, when its hold is first asked for, and
read back by the commits and releases (a cancellation knows only the request). A release that comes
before any hold closes the case instead: a hold asked for later changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from arbitration_service.domain.ledger import (
    Balances,
    ExceedsHold,
    Ledger,
    LedgerError,
    QuotaExceeded,
    commit_id,
    hold_id,
    parse,
    to_m2,
)
from arbitration_service.domain.policy import Period, QuotaPolicy

log = logging.getLogger(__name__)


class Contended(RuntimeError):
    """Too many writers changed the ledger at once: try again (a consumer waits and retries)."""

    failure_kind = "transient"


class LedgerRepository(Protocol):
    async def get(self, cell: str, period: str, case: str | None = None, fresh: bool = True) -> tuple[Ledger, int]:
        """The ledger's totals and version (version 0 when none is stored), with the applied entries
        of ``case``; not ``fresh``: the totals this process last read or wrote, if any."""

    async def save(self, ledger: Ledger, version: int) -> bool:
        """Record and apply the entries added, from ``version + 1`` on, with their events; ``False``
        when somebody wrote first. An entry applied before (by anyone) is not applied again."""

    async def drop(self, entry: str, cell: str, period: str) -> None:
        """Forget an entry recorded but not applied, refused when decided again."""

    async def unapplied(self, before: datetime, limit: int = 100) -> list[tuple[str, str, str, int]]:
        """Entries recorded before ``before`` and not applied: ``(entry id, cell, period, m²)``."""

    async def place(self, case: str, cell: str, period: str) -> tuple[str, str] | None:
        """Where the case's quota lives: placed here if it was nowhere yet; ``None`` if it was closed."""

    async def unplace(self, case: str, cell: str, period: str) -> None:
        """Forget where the case's quota was to be (its hold was refused): the next try picks again."""

    async def placement(self, case: str) -> tuple[str, str] | None:
        """Where the case's quota lives, if it was placed."""

    async def close(self, case: str, reason: str) -> tuple[str, str] | None:
        """Where the case's quota lives; ``None`` (and the case closed) if it was never placed."""


@dataclass(frozen=True)
class Quotas:
    ledgers: LedgerRepository
    policy: QuotaPolicy
    clock: Callable[[], datetime]
    attempts: int = 100
    # one change of a ledger at a time in this process: its holds then do not lose versions to each
    # other (only to other replicas), and read the totals it last wrote (``fresh`` after a loss)
    locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)


@dataclass(frozen=True)
class HoldQuota:
    case_id: str
    cell: str
    mission: str
    km2: float
    at: datetime  # when it was accepted: picks the period


@dataclass(frozen=True)
class Burndown:
    cell: str
    period: Period
    balances: Balances


async def hold(q: Quotas, cmd: HoldQuota) -> Balances | None:
    """Hold the accepted km² in the cell's ledger for the period of the acceptance; raises
    ``QuotaExceeded`` (saying what is left) when it would overdraw. ``None``: the case was released
    (cancelled) before, nothing is held. Asking again for the same case holds nothing more (the
    entry id makes each change once, whatever event asks)."""
    period = q.policy.period_of(cmd.mission, cmd.at).label
    placed = await q.ledgers.place(cmd.case_id, cmd.cell, period)
    if placed is None:
        return None
    m2 = to_m2(cmd.km2)
    try:
        return await _change(q, *placed, cmd.case_id,
                             lambda ledger, budget: ledger.hold(cmd.case_id, m2, budget, cmd.at))
    except QuotaExceeded:
        await q.ledgers.drop(hold_id(cmd.case_id), *placed)  # recorded by an attempt that stopped: not to be
        await q.ledgers.unplace(cmd.case_id, *placed)  # accepted later (a smaller area, next period): placed anew
        raise


async def commit(q: Quotas, case_id: str, n: int, km2: float, at: datetime) -> Balances:
    """The n-th delivery of the case spent ``km2`` of its hold."""
    placed = await q.ledgers.placement(case_id)
    if placed is None:
        raise ExceedsHold(f"case {case_id} holds no quota: {km2:g} km² cannot be committed")
    m2 = to_m2(km2)
    return await _change(q, *placed, case_id, lambda ledger, budget: ledger.commit(case_id, n, m2, budget, at))


async def deliver(q: Quotas, case_id: str, km2: float, at: datetime, budget_m2: int | None = None) -> Balances | None:
    """The case was delivered: ``km2`` committed (never more than it holds), the undelivered rest
    released, the case closed. ``None``: it held nothing here. Asking again changes nothing."""
    placed = await q.ledgers.close(case_id, "delivered")
    if placed is None:
        return None
    m2 = to_m2(km2)

    def settle(ledger: Ledger, budget: int) -> bool:
        committed = False
        if commit_id(case_id, 1) not in ledger.entries and not ledger.closed(case_id):
            spent = min(m2, ledger.outstanding(case_id))
            committed = spent > 0 and ledger.commit(case_id, 1, spent, budget, at)
        return ledger.release(case_id, "undelivered", budget, at) or committed

    return await _change(q, *placed, case_id, settle, budget_m2=budget_m2)


async def release(q: Quotas, case_id: str, reason: str, at: datetime, km2: float | None = None) -> Balances | None:
    """Give back what the case holds (``km2``: only that much); ``None`` when it held nothing."""
    placed = await q.ledgers.close(case_id, reason)
    if placed is None:
        return None
    m2 = None if km2 is None else to_m2(km2)
    return await _change(q, *placed, case_id, lambda ledger, budget: ledger.release(case_id, reason, budget, at, m2))


async def burndown(q: Quotas, cell: str, period: str | None = None) -> Burndown:
    """The cell's balances for the period (the current one by default)."""
    today = q.clock().date()
    chosen = Period.parse(period) if period else q.policy.current_period(cell, today)
    budget = _budget(q, cell, chosen.label, today)
    ledger, _ = await q.ledgers.get(cell, chosen.label)
    return Burndown(cell, chosen, ledger.balances(budget))


def _budget(q: Quotas, cell: str, period: str, today: date) -> int:
    return to_m2(q.policy.budget_km2(cell, Period.parse(period), today))


async def settle(q: Quotas, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Decide again the entries recorded more than ``older_than`` ago and never applied (their writer
    stopped): applied if the rules still take them, else dropped. How many were found."""
    stale = await q.ledgers.unapplied(q.clock() - older_than)
    for entry, cell, period, m2 in stale:
        case = parse(entry)[1]
        try:
            await _change(q, cell, period, case,
                          lambda ledger, budget, e=entry, m=m2: ledger.replay(e, m, budget, q.clock()))
            log.info("quota entry %s of %s %s applied after its writer stopped", entry, cell, period)
        except LedgerError as exc:
            await q.ledgers.drop(entry, cell, period)
            log.info("quota entry %s of %s %s dropped: %s", entry, cell, period, exc)
    return len(stale)


async def _change(q: Quotas, cell: str, period: str, case: str, change: Callable[[Ledger, int], bool],
                  budget_m2: int | None = None) -> Balances:
    """Apply ``change`` to the ledger of (cell, period) against the policy's budget (``budget_m2``: this
    one instead, e.g. a prepaid package's volume), deciding again while others write first."""
    key = f"{cell}:{period}"
    lock = q.locks.get(key)
    if lock is None:
        lock = q.locks[key] = asyncio.Lock()
    async with lock:
        fresh = False
        for _ in range(q.attempts):
            budget = budget_m2 if budget_m2 is not None else _budget(q, cell, period, q.clock().date())
            ledger, version = await q.ledgers.get(cell, period, case, fresh=fresh)
            try:
                changed = change(ledger, budget)
            except QuotaExceeded:
                if fresh:
                    raise
                fresh = True  # decided on totals this process last saw: refused only on the stored ones
                continue
            if not changed or await q.ledgers.save(ledger, version):
                return ledger.balances(budget)
            fresh = True
    raise Contended(f"the {cell} ledger for {period} changed {q.attempts} times while this change was decided")
