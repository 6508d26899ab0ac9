"""Domain events → wire events (``dinamis_contracts.requests``), each from the event alone."""

from __future__ import annotations

from collections.abc import Iterable

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import requests as contract
from dinamis_contracts.base import Payload

from requests_service.domain.model import RequestSubmitted, StatusChanged


def _wire(kind: str, subject: str, payload: Payload) -> Outgoing:
    return Outgoing(contract.TOPIC, CloudEvent(type=kind, source=contract.SOURCE, subject=subject,
                                               data=payload.model_dump(mode="json")))


def request_submitted(e: RequestSubmitted) -> Outgoing:
    requester = contract.Requester(user_id=e.requester.user_id, entity_id=e.requester.entity_id,
                                   entity_category=e.requester.entity_category)
    return _wire(contract.REQUEST_SUBMITTED, e.request_id, contract.RequestSubmittedV1(
        request_id=e.request_id, title=e.title, mission=e.mission, aoi=e.aoi, area_km2=e.area_km2,
        requester=requester, submitted_at=e.submitted_at))


def status_changed(e: StatusChanged) -> Outgoing:
    return _wire(contract.REQUEST_STATUS_CHANGED, e.request_id, contract.RequestStatusChangedV1(
        request_id=e.request_id, status=str(e.status), previous_status=str(e.previous), cell=e.cell,
        order_id=e.order_id, changed_at=e.at))


def outgoing(events: Iterable[object]) -> list[Outgoing]:
    out = []
    for event in events:
        if isinstance(event, RequestSubmitted):
            out.append(request_submitted(event))
        elif isinstance(event, StatusChanged):
            out.append(status_changed(event))
    return out
