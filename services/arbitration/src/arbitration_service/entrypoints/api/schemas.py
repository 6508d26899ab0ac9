"""HTTP schemas of the arbitration API (``<Entity>Public`` / ``<Entity>Create``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from arbitration_service.domain.model import MAX_REASON, Case, Decision, Step
from arbitration_service.service_layer.handlers import CellQueue, Place


class DecisionCreate(BaseModel):
    decision: Literal["accepted", "accepted-partially", "rejected", "information-requested"]
    reason: str = Field(default="", max_length=MAX_REASON,
                        description="why; required except for 'accepted' (the question, for 'information-requested')")
    accepted_area_km2: float | None = Field(default=None, gt=0, le=1e9,
                                            description="the reduced area, for 'accepted-partially' only")


class DecisionPublic(BaseModel):
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    accepted_area_km2: float

    @classmethod
    def of(cls, d: Decision) -> DecisionPublic:
        return cls(decision=d.decision, reason=d.reason, decided_by=d.decided_by, decided_at=d.decided_at,
                   accepted_area_km2=d.accepted_area_km2)


class StepPublic(BaseModel):
    status: str
    at: datetime
    by: str
    note: str

    @classmethod
    def of(cls, s: Step) -> StepPublic:
        return cls(status=str(s.status), at=s.at, by=s.by, note=s.note)


class OffersPublic(BaseModel):
    delivered: list[dict[str, Any]] = Field(description="delivered imagery covering the area, offered for free reuse")
    join: list[dict[str, Any]] = Field(description="pending tasking requests overlapping in space and time")


class CasePublic(BaseModel):
    id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    status: str
    kind: str = Field(description="archive or tasking")
    priority: Literal["standard", "high", "urgent"]
    justification: str
    funding_reference: str | None
    requester_entity: str | None
    quote: dict[str, Any] | None = Field(description="the quote the request was submitted with (frozen)")
    offers: OffersPublic
    tasking: dict[str, Any] | None
    scenes: list[dict[str, Any]]
    opened_at: datetime
    decision: str | None  # the latest decision, as below
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    decisions: list[DecisionPublic]  # every decision, oldest first
    history: list[StepPublic]

    @classmethod
    def of(cls, c: Case) -> CasePublic:
        d = c.decision
        return cls(id=c.id, request_id=c.request_id, cell=c.cell, mission=c.mission, area_km2=c.area_km2,
                   status=str(c.status), kind=c.kind, priority=c.priority, justification=c.justification,
                   funding_reference=c.funding_reference, requester_entity=c.requester.get("entity_id"),
                   quote=c.quote, offers=OffersPublic(**c.offers), tasking=c.tasking, scenes=c.scenes,
                   opened_at=c.opened_at,
                   decision=d.decision if d else None, reason=d.reason if d else None,
                   decided_by=d.decided_by if d else None, decided_at=d.decided_at if d else None,
                   decisions=[DecisionPublic.of(x) for x in c.decisions],
                   history=[StepPublic.of(s) for s in c.history])


class QueueEntryPublic(BaseModel):
    position: int
    case_id: str
    request_id: str
    mission: str
    kind: str
    area_km2: float
    requester_entity: str | None
    priority: Literal["standard", "high", "urgent"]
    justification: str
    funding_reference: str | None
    quote: dict[str, Any] | None = Field(description="the quote the request was submitted with (frozen)")
    offers: OffersPublic
    tasking: dict[str, Any] | None
    scenes: list[dict[str, Any]]
    opened_at: datetime
    status: str
    expected_decision_date: date

    @classmethod
    def of(cls, position: int, c: Case, expected: date) -> QueueEntryPublic:
        return cls(position=position, case_id=c.id, request_id=c.request_id, mission=c.mission, kind=c.kind,
                   area_km2=c.area_km2, requester_entity=c.requester.get("entity_id"), priority=c.priority,
                   justification=c.justification, funding_reference=c.funding_reference, quote=c.quote,
                   offers=OffersPublic(**c.offers), tasking=c.tasking, scenes=c.scenes, opened_at=c.opened_at,
                   status=str(c.status), expected_decision_date=expected)


class QueuePublic(BaseModel):
    cell: str
    count: int = Field(description="cases of the cell waiting for its decision")
    complete: bool = Field(description="false: more cases wait than one queue reads; positions are among those read")
    decisions_per_day: float = Field(description="the pace the expected dates assume")
    pace_measured: bool = Field(description="true: the cell's recent pace; false: the configured default")
    cases: list[QueueEntryPublic]

    @classmethod
    def of(cls, q: CellQueue) -> QueuePublic:
        return cls(cell=q.cell, count=q.count, complete=q.complete, decisions_per_day=q.pace.decisions_per_day,
                   pace_measured=q.pace.measured,
                   cases=[QueueEntryPublic.of(e.position, e.case, e.expected_decision_date) for e in q.entries])


class PlacePublic(BaseModel):
    """Where a request in review stands in its cell's queue (what the cell's own queue shows)."""

    request_id: str
    cell: str
    position: int = Field(description="1: the next case the cell decides")
    count: int = Field(description="cases of the cell waiting for its decision")
    expected_decision_date: date = Field(description="at the cell's recent pace")

    @classmethod
    def of(cls, p: Place) -> PlacePublic:
        return cls(request_id=p.request_id, cell=p.cell, position=p.position, count=p.count,
                   expected_decision_date=p.expected_decision_date)
