"""Domain events → wire events (``dinamis_contracts.requests``), each from the event alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import requests as contract
from dinamis_contracts.base import Payload

from requests_service.domain.model import InformationProvided, RequestCancelled, RequestSubmitted, StatusChanged


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


def information_provided(e: InformationProvided) -> Outgoing:
    return _wire(contract.INFORMATION_PROVIDED, e.request_id, contract.InformationProvidedV1(
        request_id=e.request_id, answer=e.answer, provided_by=e.provided_by, provided_at=e.provided_at))


def request_cancelled(e: RequestCancelled) -> Outgoing:
    return _wire(contract.REQUEST_CANCELLED, e.request_id, contract.RequestCancelledV1(
        request_id=e.request_id, reason=e.reason, cancelled_by=e.cancelled_by, cancelled_at=e.cancelled_at))


_TRANSLATORS: dict[type, Callable[[Any], Outgoing]] = {
    RequestSubmitted: request_submitted,
    StatusChanged: status_changed,
    InformationProvided: information_provided,
    RequestCancelled: request_cancelled,
}


def outgoing(events: Iterable[object]) -> list[Outgoing]:
    return [_TRANSLATORS[type(event)](event) for event in events]
