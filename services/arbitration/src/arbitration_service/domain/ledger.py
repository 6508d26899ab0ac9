"""The quota ledger of one cell for one period: entries with deterministic ids, balances derived.

* ``hold:<case>`` when a request is accepted (its accepted km²);
* ``commit:<case>:<n>`` for the n-th delivery of the case (the delivered km²);
* ``release:<case>:<reason>`` on cancellation, rejection, failure or an undelivered remainder
  (by default, all that the case still holds; 0 when it holds nothing, which still closes the case:
  a hold arriving after its cancellation changes nothing).

An entry whose id is already there changes nothing, so replaying any topic from its first offset
changes nothing. A commit or a release never exceeds what the case holds; a hold that would
overdraw the budget is refused, saying what is left. Amounts are integer m² (1 km² = 10⁶ m²): sums
are exact whatever the order of the entries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

M2_PER_KM2 = 1_000_000
_REASON = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def to_m2(km2: float) -> int:
    return round(km2 * M2_PER_KM2)


def to_km2(m2: int) -> float:
    return m2 / M2_PER_KM2


class LedgerError(ValueError):
    """An entry the ledger refuses for good (a consumer sets it aside with this message)."""

    failure_kind = "permanent"


class QuotaExceeded(LedgerError):
    """A hold that would overdraw the cell's budget for the period (HTTP 409)."""

    def __init__(self, message: str, remaining_km2: float) -> None:
        super().__init__(message)
        self.remaining_km2 = remaining_km2


class ExceedsHold(LedgerError):
    """A commit or release of more than the case holds."""


def hold_id(case: str) -> str:
    return f"hold:{case}"


def commit_id(case: str, n: int) -> str:
    return f"commit:{case}:{n}"


def release_id(case: str, reason: str) -> str:
    if not _REASON.match(reason):
        raise LedgerError(f"release reason {reason!r}: use a short lower-case word (cancelled, failed, …)")
    return f"release:{case}:{reason}"


def parse(entry_id: str) -> tuple[str, str]:
    """``(kind, case)`` of an entry id."""
    kind, _, rest = entry_id.partition(":")
    return kind, (rest if kind == "hold" else rest.rsplit(":", 1)[0])


@dataclass(frozen=True)
class Balances:
    budget_m2: int
    held_m2: int  # accepted, neither delivered nor released yet
    committed_m2: int
    released_m2: int

    @property
    def remaining_m2(self) -> int:
        return max(0, self.budget_m2 - self.held_m2 - self.committed_m2)

    def km2(self) -> dict[str, float]:
        return {"budget_km2": to_km2(self.budget_m2), "held_km2": to_km2(self.held_m2),
                "committed_km2": to_km2(self.committed_m2), "released_km2": to_km2(self.released_m2),
                "remaining_km2": to_km2(self.remaining_m2)}


@dataclass(frozen=True)
class QuotaChanged:
    """An entry was added (``kind``: hold, commit or release), with the balances after it."""

    kind: str
    entry_id: str
    case_id: str
    cell: str
    period: str
    m2: int
    at: datetime
    balances: Balances
    reason: str = ""


def balances(entries: Mapping[str, int], budget_m2: int) -> Balances:
    totals = {"hold": 0, "commit": 0, "release": 0}
    for entry_id, m2 in entries.items():
        totals[parse(entry_id)[0]] += m2
    return Balances(budget_m2, totals["hold"] - totals["commit"] - totals["release"], totals["commit"],
                    totals["release"])


@dataclass
class Ledger:
    """The ledger's rules. ``entries`` are the entries known here: all of the ledger's, or (as stored)
    only those of the case being changed, with ``totals`` then the m² of all its entries by kind
    (``hold``, ``commit``, ``release``), which the budget is checked against. ``added``: the entry
    ids added since it was read, in order."""

    cell: str
    period: str
    entries: dict[str, int] = field(default_factory=dict)  # entry id -> m²
    events: list[QuotaChanged] = field(default_factory=list, repr=False)
    totals: dict[str, int] | None = None
    added: list[str] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return ledger_id(self.cell, self.period)

    def balances(self, budget_m2: int) -> Balances:
        if self.totals is None:
            return balances(self.entries, budget_m2)
        t = self.totals
        return Balances(budget_m2, t["hold"] - t["commit"] - t["release"], t["commit"], t["release"])

    def replay(self, entry_id: str, m2: int, budget_m2: int, at: datetime) -> bool:
        """Decide again an entry recorded but not applied (its writer stopped): by the same rules."""
        kind, case = parse(entry_id)
        if kind == "hold":
            return self.hold(case, m2, budget_m2, at)
        suffix = entry_id.rsplit(":", 1)[1]
        if kind == "commit":
            return self.commit(case, int(suffix), m2, budget_m2, at)
        if kind == "release":
            return self.release(case, suffix, budget_m2, at, m2)
        raise LedgerError(f"{entry_id!r} is not a ledger entry")

    def outstanding(self, case: str) -> int:
        """What the case holds and has neither committed nor released."""
        total = 0
        for entry_id, m2 in self.entries.items():
            kind, of = parse(entry_id)
            if of == case:
                total += m2 if kind == "hold" else -m2
        return total

    def closed(self, case: str) -> bool:
        return any(parse(e) == ("release", case) for e in self.entries)

    def hold(self, case: str, m2: int, budget_m2: int, at: datetime) -> bool:
        """Set ``m2`` aside for the case; ``False`` when already held or the case was released."""
        entry = hold_id(case)
        if entry in self.entries or self.closed(case):
            return False
        if m2 <= 0:
            raise LedgerError(f"a hold needs a positive area, not {to_km2(m2):g} km²")
        left = self.balances(budget_m2).remaining_m2
        if m2 > left:
            raise QuotaExceeded(
                f"the {self.cell} cell has {to_km2(left):g} km² left of its {to_km2(budget_m2):g} km² budget for "
                f"{self.period}: {to_km2(m2):g} km² cannot be accepted (accept a smaller area, or wait for the "
                "next period)", to_km2(left))
        return self._add("hold", entry, case, m2, budget_m2, at)

    def commit(self, case: str, n: int, m2: int, budget_m2: int, at: datetime) -> bool:
        """The n-th delivery of the case spent ``m2`` of its hold; ``False`` when already recorded."""
        entry = commit_id(case, n)
        if entry in self.entries:
            return False
        if m2 <= 0:
            raise LedgerError(f"a commit needs a positive area, not {to_km2(m2):g} km²")
        held = self.outstanding(case)
        if m2 > held:
            raise ExceedsHold(f"case {case} holds {to_km2(held):g} km² in {self.cell} {self.period}: "
                              f"{to_km2(m2):g} km² cannot be committed")
        return self._add("commit", entry, case, m2, budget_m2, at)

    def release(self, case: str, reason: str, budget_m2: int, at: datetime, m2: int | None = None) -> bool:
        """Give back ``m2`` (all the case holds when ``None``); ``False`` when already recorded."""
        entry = release_id(case, reason)
        if entry in self.entries:
            return False
        held = self.outstanding(case)
        amount = held if m2 is None else m2
        if amount < 0 or amount > held:
            raise ExceedsHold(f"case {case} holds {to_km2(held):g} km² in {self.cell} {self.period}: "
                              f"{to_km2(amount):g} km² cannot be released")
        return self._add("release", entry, case, amount, budget_m2, at, reason)

    def _add(self, kind: str, entry: str, case: str, m2: int, budget_m2: int, at: datetime,
             reason: str = "") -> bool:
        self.entries[entry] = m2
        self.added.append(entry)
        if self.totals is not None:
            self.totals[kind] += m2
        if m2:  # a release of nothing only closes the case: nothing to announce
            self.events.append(QuotaChanged(kind, entry, case, self.cell, self.period, m2, at,
                                            self.balances(budget_m2), reason))
        return True


def ledger_id(cell: str, period: str) -> str:
    return f"{cell}:{period}"
