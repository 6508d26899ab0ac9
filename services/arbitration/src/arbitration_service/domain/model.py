"""Instruction cases: which cell reviews a request, and what it decided.

Routing (BRIEF.md): Pléiades for scientists → ``pleiades-science`` (CNES ISIS);
SPOT 6/7 for scientists → ``spot-science``; everything for institutional
non-scientific users → ``institutional``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CELLS = ("pleiades-science", "institutional", "spot-science")
AUTO_ARBITER = "auto-rule"


def route(mission: str, entity_category: str) -> str:
    if entity_category == "scientific":
        return "pleiades-science" if mission == "pleiades" else "spot-science"
    return "institutional"


@dataclass(frozen=True)
class AutoRule:
    """The skeleton's automatic decision: accept any request up to ``max_area_km2``.
    Larger ones wait for a person in the cell."""

    enabled: bool = True
    max_area_km2: float = 10_000.0

    def decide(self, area_km2: float) -> tuple[str, str] | None:
        if not self.enabled or area_km2 > self.max_area_km2:
            return None
        return "accepted", f"automatic acceptance: {area_km2:g} km² ≤ {self.max_area_km2:g} km²"


@dataclass(frozen=True)
class CaseOpened:
    """A request was given to the cell that reviews it."""

    case_id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    opened_at: datetime


@dataclass(frozen=True)
class DecisionRecorded:
    """The cell (or the automatic rule) decided about a request."""

    case_id: str
    request_id: str
    cell: str
    mission: str
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    accepted_area_km2: float


@dataclass
class Decision:
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    accepted_area_km2: float


@dataclass
class Case:
    id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    requester: dict[str, Any]
    opened_at: datetime
    decision: Decision | None = None
    events: list[CaseOpened | DecisionRecorded] = field(default_factory=list, repr=False)

    @property
    def status(self) -> str:
        return "decided" if self.decision else "open"

    @classmethod
    def open(cls, *, request_id: str, mission: str, area_km2: float, requester: dict[str, Any],
             at: datetime, rule: AutoRule) -> Case:
        case = cls(id=request_id, request_id=request_id,
                   cell=route(mission, requester.get("entity_category", "institutional")),
                   mission=mission, area_km2=area_km2, requester=requester, opened_at=at)
        case.events.append(CaseOpened(case.id, case.request_id, case.cell, case.mission, case.area_km2, at))
        if (auto := rule.decide(area_km2)) is not None:
            case.record(auto[0], auto[1], AUTO_ARBITER, at, area_km2)
        return case

    def record(self, decision: str, reason: str, by: str, at: datetime, accepted_area_km2: float) -> None:
        self.decision = Decision(decision, reason, by, at, accepted_area_km2)
        self.events.append(DecisionRecorded(self.id, self.request_id, self.cell, self.mission, decision, reason, by,
                                            at, accepted_area_km2))
