"""The quota policy: periods, each cell's budget per period, the free volume per request, every
value valid from a date (configuration, ``Settings.arbitration_quota_policy``; never a constant here).

A value given from a date supersedes the one before it from that date on. A period's budget is the
value in force on the day asked about, kept within the period: for the current period the value of
today (a budget raised from today counts from today), for a past one the value of its last day, for
a future one the value of its first day.

A cell's period follows the mission (Pléiades quarterly, ``2026-Q1``; SPOT 6/7 yearly, ``2026``):
the ``institutional`` cell, which handles both, has a quarterly Pléiades budget and a yearly SPOT
one. Missions of one cell sharing a kind of period share its budget (their sum).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

PERIOD_KINDS = ("quarter", "year")
REQUEST_KINDS = ("archive", "tasking")
_LABEL = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4]))?$")


class PolicyError(ValueError):
    """The configured policy cannot be used as it is."""


class UnknownPeriod(ValueError):
    """A period that does not exist, or that the cell does not count its budget by."""


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # exclusive
    label: str

    @property
    def kind(self) -> str:
        return "quarter" if "-Q" in self.label else "year"

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        if kind == "year":
            return cls.parse(f"{day.year}")
        return cls.parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")

    @classmethod
    def parse(cls, label: str) -> Period:
        found = _LABEL.match(label)
        if found is None:
            raise UnknownPeriod(f"{label!r} is not a period: write a year (2026) or a quarter (2026-Q1)")
        year = int(found["year"])
        if not 1 <= year < 9999:  # a date's own range (year 0 was a 500, found by schemathesis)
            raise UnknownPeriod(f"{label!r} is not a period: the year must be between 0001 and 9998")
        if found["quarter"] is None:
            return cls(date(year, 1, 1), date(year + 1, 1, 1), label)
        q = int(found["quarter"])
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return cls(date(year, 3 * q - 2, 1), end, label)

    def clamp(self, day: date) -> date:
        """``day`` kept within the period."""
        return min(max(day, self.start), self.end - timedelta(days=1))


@dataclass(frozen=True)
class Dated:
    """Values each valid from a date on, oldest first."""

    steps: tuple[tuple[date, Any], ...]

    def at(self, day: date) -> Any:
        value = None
        for since, v in self.steps:
            if since > day:
                break
            value = v
        if value is None:
            raise PolicyError(f"no value in force on {day.isoformat()} (the first is from {self.steps[0][0]})")
        return value

    @classmethod
    def parse(cls, where: str, raw: Any, check: Any = None) -> Dated:
        if not isinstance(raw, list) or not raw:
            raise PolicyError(f"{where}: expected a list of {{\"from\": \"YYYY-MM-DD\", \"value\": …}}")
        steps = []
        for item in raw:
            try:
                since, value = date.fromisoformat(str(item["from"])), item["value"]
            except (KeyError, TypeError, ValueError) as exc:
                raise PolicyError(f"{where}: {item!r} needs a \"from\" date (YYYY-MM-DD) and a \"value\"") from exc
            if check is not None and not check(value):
                raise PolicyError(f"{where}: {value!r} (from {since}) is not allowed here")
            steps.append((since, value))
        steps.sort(key=lambda s: s[0])
        if len({s for s, _ in steps}) != len(steps):
            raise PolicyError(f"{where}: two values from the same date")
        return cls(tuple(steps))


def _km2(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class QuotaPolicy:
    periods: Mapping[str, Dated]  # mission -> "quarter" | "year"
    budgets: Mapping[str, Mapping[str, Dated]]  # cell -> mission -> km² per period
    free: Mapping[str, Mapping[str, Dated]]  # mission -> request kind -> km² free per request

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QuotaPolicy:
        try:
            periods = {m: Dated.parse(f"periods.{m}", v, lambda k: k in PERIOD_KINDS)
                       for m, v in config["periods"].items()}
            budgets = {c: {m: Dated.parse(f"budgets_km2.{c}.{m}", v, _km2) for m, v in by_mission.items()}
                       for c, by_mission in config["budgets_km2"].items()}
            free = {m: {k: Dated.parse(f"free_km2.{m}.{k}", v, _km2) for k, v in by_kind.items()}
                    for m, by_kind in config["free_km2"].items()}
        except (KeyError, AttributeError, TypeError) as exc:
            raise PolicyError(f"the quota policy needs periods, budgets_km2 and free_km2 maps ({exc})") from exc
        for cell, by_mission in budgets.items():
            if not by_mission:
                raise PolicyError(f"budgets_km2.{cell}: no mission")
            for mission in by_mission:
                if mission not in periods:
                    raise PolicyError(f"budgets_km2.{cell}.{mission}: the mission has no period in periods")
        return cls(periods, budgets, free)

    @property
    def cells(self) -> tuple[str, ...]:
        return tuple(self.budgets)

    def period_of(self, mission: str, at: datetime | date) -> Period:
        """The period an acceptance at ``at`` counts in."""
        day = at.date() if isinstance(at, datetime) else at
        if mission not in self.periods:
            raise PolicyError(f"no period is configured for the mission {mission!r}")
        return Period.of(self.periods[mission].at(day), day)

    def current_period(self, cell: str, today: date) -> Period:
        """The period of the cell's first mission containing ``today``."""
        return self.period_of(next(iter(self._missions(cell))), today)

    def budget_km2(self, cell: str, period: Period, today: date) -> float:
        """The cell's budget for ``period`` as in force on ``today`` (kept within the period)."""
        try:
            return self._budget_km2(cell, period, period.clamp(today))
        except PolicyError as exc:  # a period before the first rules (0085 was a 500, found by schemathesis)
            raise UnknownPeriod(f"{period.label} is not one of the {cell} cell's periods: {exc}") from exc

    def _budget_km2(self, cell: str, period: Period, day: date) -> float:
        counted = [m for m in self._missions(cell) if self.period_of(m, period.start).kind == period.kind]
        if not counted:
            kinds = sorted({self.period_of(m, period.start).kind for m in self._missions(cell)})
            raise UnknownPeriod(f"the {cell} cell counts its budget by {' and '.join(kinds)}, "
                                f"not by {period.kind}: {period.label} is not one of its periods")
        return sum(float(self.budgets[cell][m].at(day)) for m in counted)

    def free_km2(self, mission: str, kind: str, day: date) -> float:
        """The volume a request of this mission and kind gets free of charge."""
        try:
            return float(self.free[mission][kind].at(day))
        except KeyError:
            raise PolicyError(f"no free volume is configured for {mission} {kind} requests") from None

    def _missions(self, cell: str) -> Mapping[str, Dated]:
        if cell not in self.budgets:
            raise UnknownPeriod(f"{cell!r} is not a cell: one of {', '.join(self.budgets)}")
        return self.budgets[cell]
