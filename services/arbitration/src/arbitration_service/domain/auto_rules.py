"""Automatic decisions, configured per cell (``ARBITRATION_AUTO_RULES``): each rule has a name and a
kind; a decision it makes is recorded as decided by ``rule:<name>``. A cell with no rule decides
nothing automatically, which is the production default: every case waits for a person.

Kinds:

``archive-within-free-quota``
    An archive request whose frozen quote has nothing over the free quota (``over_quota_km2 == 0``),
    from a requester with an entity, is accepted. The entity is eligible: the requests service
    submits only for members of eligible entities (it refuses the others with 403), so a submitted
    request carries an eligible entity. A request without a quote (submitted before quotes existed)
    or over the quota waits for a person; so does every tasking request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arbitration_service.domain.model import Case

ARCHIVE_WITHIN_FREE_QUOTA = "archive-within-free-quota"


def _archive_within_free_quota(case: Case) -> str | None:
    """The reason to accept ``case``, or ``None``."""
    if case.kind != "archive" or not case.requester.get("entity_id") or case.quote is None:
        return None
    over = case.quote.get("over_quota_km2")
    if over is None or float(over) != 0:
        return None
    return (f"automatic acceptance: archive request of {case.area_km2:g} km² within the free quota "
            f"({float(case.quote.get('free_km2', case.area_km2)):g} km² free, nothing over)")


KINDS: Mapping[str, Callable[[Case], str | None]] = {ARCHIVE_WITHIN_FREE_QUOTA: _archive_within_free_quota}


@dataclass(frozen=True)
class AutoRule:
    name: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown automatic rule kind {self.kind!r} (rule {self.name!r}): "
                             f"one of {', '.join(sorted(KINDS))}")

    @property
    def decided_by(self) -> str:
        return f"rule:{self.name}"

    def decide(self, case: Case) -> tuple[str, str] | None:
        """``(decision, reason)`` when this rule decides ``case``, else ``None``."""
        reason = KINDS[self.kind](case)
        return ("accepted", reason) if reason is not None else None


@dataclass(frozen=True)
class Verdict:
    rule: AutoRule
    decision: str
    reason: str


@dataclass(frozen=True)
class AutoRules:
    """The rules of each cell, tried in their configured order; the first that decides wins."""

    by_cell: Mapping[str, tuple[AutoRule, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Mapping[str, Iterable[Mapping[str, str]]], cells: Iterable[str]) -> AutoRules:
        known = set(cells)
        if unknown := sorted(set(config) - known):
            raise ValueError(f"automatic rules for unknown cells {', '.join(unknown)}: "
                             f"the cells are {', '.join(sorted(known))}")
        return cls({cell: tuple(AutoRule(r["name"], r["kind"]) for r in rules) for cell, rules in config.items()})

    def verdict(self, case: Case) -> Verdict | None:
        for rule in self.by_cell.get(case.cell, ()):
            if (decided := rule.decide(case)) is not None:
                return Verdict(rule, *decided)
        return None
