"""Domain events → wire events (``dinamis_contracts.arbitration``), each from the event alone."""

from __future__ import annotations

from collections.abc import Iterable

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import arbitration as contract
from dinamis_contracts.base import Payload

from arbitration_service.domain.model import CaseOpened, DecisionRecorded, InformationRequested


def _wire(kind: str, subject: str, payload: Payload) -> Outgoing:
    return Outgoing(contract.TOPIC, CloudEvent(type=kind, source=contract.SOURCE, subject=subject,
                                               data=payload.model_dump(mode="json")))


def case_opened(e: CaseOpened) -> Outgoing:
    return _wire(contract.CASE_OPENED, e.request_id, contract.CaseOpenedV1(
        case_id=e.case_id, request_id=e.request_id, cell=e.cell, mission=e.mission, area_km2=e.area_km2,
        opened_at=e.opened_at))


def decision_recorded(e: DecisionRecorded) -> Outgoing:
    return _wire(contract.DECISION_RECORDED, e.request_id, contract.DecisionRecordedV1(
        case_id=e.case_id, request_id=e.request_id, cell=e.cell, mission=e.mission, decision=e.decision,
        reason=e.reason, decided_by=e.decided_by, decided_at=e.decided_at, accepted_area_km2=e.accepted_area_km2))


def information_requested(e: InformationRequested) -> Outgoing:
    return _wire(contract.INFORMATION_REQUESTED, e.request_id, contract.InformationRequestedV1(
        case_id=e.case_id, request_id=e.request_id, cell=e.cell, question=e.question, asked_by=e.asked_by,
        asked_at=e.asked_at))


def outgoing(events: Iterable[object]) -> list[Outgoing]:
    out = []
    for event in events:
        if isinstance(event, CaseOpened):
            out.append(case_opened(event))
        elif isinstance(event, DecisionRecorded):
            out.append(decision_recorded(event))
        elif isinstance(event, InformationRequested):
            out.append(information_requested(event))
    return out
