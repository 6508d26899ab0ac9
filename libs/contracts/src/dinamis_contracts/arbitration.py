"""Events of the instruction & arbitration domain (producer: arbitration service)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dinamis_contracts.base import Payload

TOPIC = "arbitration.case.events.v1"
SOURCE = "/dinamis/arbitration"
CASE_OPENED = "fr.dinamis.arbitration.case.opened.v1"
DECISION_RECORDED = "fr.dinamis.arbitration.decision.recorded.v1"
INFORMATION_REQUESTED = "fr.dinamis.arbitration.case.information-requested.v1"

Cell = Literal["pleiades-science", "institutional", "spot-science"]
Decision = Literal["accepted", "accepted-partially", "rejected", "information-requested"]


class CaseOpenedV1(Payload):
    case_id: str
    request_id: str
    cell: Cell
    mission: str
    area_km2: float
    opened_at: datetime


class InformationRequestedV1(Payload):
    """The cell asks the requester a question: the case waits for their answer (announced beside the
    decision ``information-requested``, which keeps the audit trail; this one is for notifications)."""

    case_id: str
    request_id: str
    cell: Cell
    question: str
    asked_by: str
    asked_at: datetime


class DecisionRecordedV1(Payload):
    case_id: str
    request_id: str
    cell: Cell
    mission: str
    decision: Decision
    reason: str
    decided_by: str
    decided_at: datetime
    accepted_area_km2: float
