"""Instruction cases: which cell reviews a request, what it decided, who, when and why.

Routing (BRIEF.md): Pléiades for scientists → ``pleiades-science`` (CNES ISIS);
SPOT 6/7 for scientists → ``spot-science``; everything for institutional
non-scientific users → ``institutional``.

A case waits ``in-review`` for its cell. Its decisions are kept, never changed: a final one
(accepted, accepted-partially, rejected) closes it as ``decided``; ``information-requested`` makes
it wait for the requester (``awaiting-information``) until their answer sends it back to review.
A cancelled request closes its case as ``cancelled``. What may not happen now raises
:class:`DecisionConflict` with the reason. An acceptance by an automatic rule of the cell
(``domain.auto_rules``) that the cell's quota cannot take is not recorded: the case waits for a
person, its history saying why.

A case keeps what its cell needs to decide, from the submitted request: its kind (archive or
tasking), priority (urgent before high before standard in the queue), justification, funding
reference, scenes or tasking constraints, and the quote it was submitted with (``quote``: the
``QuoteV1`` dump, with its overlap offers), and its requester (user, entity, category).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from arbitration_service.domain.auto_rules import Verdict
from arbitration_service.domain.errors import DecisionConflict, InvalidDecision

CELLS = ("pleiades-science", "institutional", "spot-science")
INFORMATION_REQUESTED = "information-requested"
ACCEPTANCES = frozenset({"accepted", "accepted-partially"})  # they hold quota
FINAL_DECISIONS = ACCEPTANCES | {"rejected"}
DECISIONS = FINAL_DECISIONS | {INFORMATION_REQUESTED}
MAX_REASON = 2000
PRIORITIES = ("standard", "high", "urgent")  # in rising order: urgent cases come first in the queue


def priority_rank(priority: str | None) -> int:
    """Higher first in the queue; an unknown or missing priority is standard."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else 0


class Status(StrEnum):
    IN_REVIEW = "in-review"  # waits for its cell
    AWAITING_INFORMATION = "awaiting-information"  # waits for the requester's answer
    DECIDED = "decided"  # finally decided
    CANCELLED = "cancelled"  # withdrawn by the requester
    EXPIRED = "expired"  # a tasking whose window ended before it was ordered


def route(mission: str, entity_category: str) -> str:
    if entity_category == "scientific":
        return "pleiades-science" if mission == "pleiades" else "spot-science"
    return "institutional"


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
    """The cell (or an automatic rule) decided about a request."""

    case_id: str
    request_id: str
    cell: str
    mission: str
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    accepted_area_km2: float


@dataclass(frozen=True)
class InformationRequested:
    """The cell asked the requester a question (the decision ``information-requested``)."""

    case_id: str
    request_id: str
    cell: str
    question: str
    asked_by: str
    asked_at: datetime


@dataclass(frozen=True)
class Decision:
    """One decision, as recorded: never changed afterwards."""

    decision: str
    reason: str
    decided_by: str  # the arbiter's user id, or ``rule:<name>``
    decided_at: datetime
    accepted_area_km2: float

    @property
    def final(self) -> bool:
        return self.decision in FINAL_DECISIONS

    @property
    def holds_quota(self) -> bool:
        return self.decision in ACCEPTANCES and self.accepted_area_km2 > 0

    @property
    def by_a_person(self) -> bool:
        return not self.decided_by.startswith("rule:")


@dataclass(frozen=True)
class Step:
    """One line of a case's history: the status it moved to (or stayed in), when, by whom, why."""

    status: str
    at: datetime
    by: str
    note: str


def _checked(decision: str, reason: str, area_km2: float, accepted_area_km2: float | None) -> tuple[str, float]:
    """The reason (stripped) and the accepted area of a decision, or why it cannot be recorded."""
    if decision not in DECISIONS:
        raise InvalidDecision(f"unknown decision {decision!r}: one of {', '.join(sorted(DECISIONS))}")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidDecision(f"the reason has {len(reason)} characters; at most {MAX_REASON}")
    if decision != "accepted" and not reason:
        what = "the question to the requester" if decision == INFORMATION_REQUESTED else "a reason"
        raise InvalidDecision(f"a decision '{decision}' needs {what} in 'reason'")
    if decision == "accepted-partially":
        if accepted_area_km2 is None or not 0 < accepted_area_km2 < area_km2:
            raise InvalidDecision(f"a partial acceptance needs 'accepted_area_km2' above 0 and below the "
                                  f"requested {area_km2:g} km² (got {accepted_area_km2})")
        return reason, accepted_area_km2
    if accepted_area_km2 is not None and not (decision == "accepted" and accepted_area_km2 == area_km2):
        raise InvalidDecision("'accepted_area_km2' is only for a partial acceptance ('accepted-partially'); "
                              f"'{decision}' {'accepts the whole area' if decision == 'accepted' else 'accepts none'}")
    return reason, area_km2 if decision == "accepted" else 0.0


@dataclass
class Case:
    id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    requester: dict[str, Any]
    opened_at: datetime
    status: Status = Status.IN_REVIEW
    priority: str = "standard"  # urgent, high, standard: in that order in the queue
    decisions: list[Decision] = field(default_factory=list)
    history: list[Step] = field(default_factory=list)
    version: int = 0
    events: list[CaseOpened | DecisionRecorded | InformationRequested] = field(default_factory=list, repr=False)
    kind: str = "tasking"  # archive or tasking (before issue 10 every request was a tasking)
    justification: str = ""
    funding_reference: str | None = None
    quote: dict[str, Any] | None = None  # the QuoteV1 dump (JSON) the request was submitted with; None before quotes
    tasking: dict[str, Any] | None = None  # a tasking's window, cloud, incidence, mode (TaskingV1 dump)
    scenes: list[dict[str, Any]] = field(default_factory=list)  # an archive's scenes: item_id, area_km2, acquired_at

    @property
    def offers(self) -> dict[str, list[dict[str, Any]]]:
        """The overlap offers of its quote: delivered imagery to reuse, pending taskings to join."""
        quote = self.quote or {}
        return {"delivered": list(quote.get("delivered_offers") or []), "join": list(quote.get("join_offers") or [])}

    @property
    def paid_from_package(self) -> bool:
        return (self.quote or {}).get("payer") == "prepaid-package"

    def package_draw(self, accepted_km2: float) -> tuple[str, float] | None:
        """``(package id, km²)`` an acceptance of ``accepted_km2`` draws from the entity's prepaid package:
        the accepted km² beyond the free part of the frozen quote, raised to its invoicing minimum;
        ``None`` when the quote is not paid from a package or nothing is beyond the free part."""
        quote = self.quote or {}
        if not self.paid_from_package or not quote.get("package_id"):
            return None
        over = max(accepted_km2 - float(quote.get("free_km2") or 0.0), 0.0)
        if over <= 0:
            return None
        return str(quote["package_id"]), round(max(over, float(quote.get("invoicing_minimum_km2") or 0.0)), 6)

    @property
    def decision(self) -> Decision | None:
        """The latest decision."""
        return self.decisions[-1] if self.decisions else None

    @property
    def final_decision(self) -> Decision | None:
        return next((d for d in reversed(self.decisions) if d.final), None)

    @classmethod
    def open(cls, *, request_id: str, mission: str, area_km2: float, requester: dict[str, Any],
             at: datetime, **asked: Any) -> Case:
        """A new case in review for its cell (``asked``: kind, priority, justification, funding_reference,
        quote, tasking, scenes of the request)."""
        case = cls(id=request_id, request_id=request_id,
                   cell=route(mission, requester.get("entity_category", "institutional")),
                   mission=mission, area_km2=area_km2, requester=requester, opened_at=at, **asked)
        case.history.append(Step(Status.IN_REVIEW, at, requester.get("user_id", ""),
                                 f"opened for the {case.cell} cell"))
        case.events.append(CaseOpened(case.id, case.request_id, case.cell, case.mission, case.area_km2, at))
        return case

    def decided_automatically(self, verdict: Verdict, at: datetime, refused: str | None = None) -> None:
        """What a rule of the cell decided when the case opened; an acceptance the quota ``refused``
        is not recorded: the case waits for a person, its history saying why."""
        if refused is None:
            area = self.area_km2 if verdict.decision in ACCEPTANCES else 0.0
            self.record(verdict.decision, verdict.reason, verdict.rule.decided_by, at, area)
        else:
            self.history.append(Step(Status.IN_REVIEW, at, verdict.rule.decided_by,
                                     f"not accepted automatically: {refused}"))

    def decide(self, decision: str, reason: str, by: str, at: datetime,
               accepted_area_km2: float | None = None) -> Decision:
        """A person's decision, if the case can take it now."""
        reason, area = _checked(decision, reason, self.area_km2, accepted_area_km2)
        self._may_decide(decision)
        return self.record(decision, reason, by, at, area)

    def _may_decide(self, decision: str) -> None:
        if self.status is Status.CANCELLED:
            step = self.history[-1]
            raise DecisionConflict(f"request {self.request_id} was cancelled by its requester on "
                                   f"{step.at:%Y-%m-%d %H:%M} UTC: its case is closed")
        if self.status is Status.EXPIRED:
            raise DecisionConflict(f"request {self.request_id} expired on {self.history[-1].at:%Y-%m-%d %H:%M} UTC "
                                   "(its acquisition window ended): its case is closed")
        if (done := self.final_decision) is not None:
            raise DecisionConflict(f"case {self.id} was already decided ({done.decision}) by {done.decided_by} on "
                                   f"{done.decided_at:%Y-%m-%d %H:%M} UTC; a decision is final and cannot be changed")
        if self.status is Status.AWAITING_INFORMATION:
            asked = self.decisions[-1]
            raise DecisionConflict(f"case {self.id} waits for the requester's answer to the question asked on "
                                   f"{asked.decided_at:%Y-%m-%d %H:%M} UTC ({asked.reason!r}): "
                                   "decide once they have answered")

    def record(self, decision: str, reason: str, by: str, at: datetime, accepted_area_km2: float) -> Decision:
        """Append a decision (checked by the caller) and announce it."""
        recorded = Decision(decision, reason, by, at, accepted_area_km2)
        self.decisions.append(recorded)
        self.status = Status.DECIDED if recorded.final else Status.AWAITING_INFORMATION
        self.history.append(Step(self.status, at, by, f"{decision}: {reason}" if reason else decision))
        self.events.append(DecisionRecorded(self.id, self.request_id, self.cell, self.mission, decision, reason, by,
                                            at, accepted_area_km2))
        if decision == INFORMATION_REQUESTED:
            self.events.append(InformationRequested(self.id, self.request_id, self.cell, reason, by, at))
        return recorded

    def information_provided(self, answer: str, by: str, at: datetime) -> None:
        """The requester answered: the case goes back to review (the answer is kept in any case)."""
        if self.status is Status.AWAITING_INFORMATION:
            self.status = Status.IN_REVIEW
        self.history.append(Step(self.status, at, by, f"information provided: {answer}"))

    def expire(self, at: datetime) -> bool:
        """The request expired (its tasking window ended before it was ordered): a case still waiting
        closes; a decided one keeps its decision (its hold is released by the ledger's consumer).
        ``False`` if it had closed so already."""
        if self.status in (Status.CANCELLED, Status.EXPIRED):
            return False
        if self.status is not Status.DECIDED:
            self.status = Status.EXPIRED
        self.history.append(Step(self.status, at, "requests", "the request expired: its acquisition window ended "
                                 "before it was ordered"))
        return True

    def cancel(self, reason: str, by: str, at: datetime) -> bool:
        """The requester withdrew the request: the case closes. ``False`` if it was closed so already."""
        if self.status is Status.CANCELLED:
            return False
        self.status = Status.CANCELLED
        self.history.append(Step(Status.CANCELLED, at, by, f"cancelled by the requester: {reason}"))
        return True
