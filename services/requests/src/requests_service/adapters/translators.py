"""Domain events → wire events (``dinamis_contracts.requests``), each from the event alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import requests as contract
from dinamis_contracts.base import Payload

from requests_service.domain.model import InformationProvided, RequestCancelled, RequestSubmitted, StatusChanged
from requests_service.domain.quote import Quote
from requests_service.domain.spec import Scene, Tasking


def _wire(kind: str, subject: str, payload: Payload) -> Outgoing:
    return Outgoing(contract.TOPIC, CloudEvent(type=kind, source=contract.SOURCE, subject=subject,
                                               data=payload.model_dump(mode="json")))


def scene_v1(s: Scene) -> contract.SceneV1:
    return contract.SceneV1(item_id=s.item_id, aoi=s.aoi, area_km2=s.area_km2, acquired_at=s.acquired_at)


def tasking_v1(t: Tasking) -> contract.TaskingV1:
    return contract.TaskingV1(window_start=t.window_start, window_end=t.window_end, max_cloud_cover=t.max_cloud_cover,
                              max_incidence_angle=t.max_incidence_angle, mode=t.mode, priority=t.priority)


def quote_v1(q: Quote) -> contract.QuoteV1:
    """The frozen quote on the wire: money as a decimal string (EUR, cents)."""
    return contract.QuoteV1(
        area_km2=q.area_km2, free_km2=q.free_km2, over_quota_km2=q.over_quota_km2, billed_km2=q.billed_km2,
        price_eur=f"{q.price_eur:.2f}", payer=q.payer, basis=q.basis, invoicing_minimum_km2=q.invoicing_minimum_km2,
        cell=q.cell, period=q.period, quoted_at=q.quoted_at, valid_until=q.valid_until, package_id=q.package_id,
        delivered_offers=[contract.DeliveredOfferV1(item_id=o.item_id, collection=o.collection,
                                                    acquired_at=o.acquired_at, coverage=o.coverage,
                                                    cloud_cover=o.cloud_cover, incidence_angle=o.incidence_angle)
                          for o in q.offers.delivered],
        join_offers=[contract.JoinOfferV1(request_id=o.request_id, overlap_km2=o.overlap_km2,
                                          window_start=o.window_start, window_end=o.window_end, mode=o.mode)
                     for o in q.offers.join])


def request_submitted(e: RequestSubmitted) -> Outgoing:
    requester = contract.Requester(user_id=e.requester.user_id, entity_id=e.requester.entity_id,
                                   entity_category=e.requester.entity_category)
    return _wire(contract.REQUEST_SUBMITTED, e.request_id, contract.RequestSubmittedV1(
        request_id=e.request_id, title=e.title, mission=e.mission, aoi=e.aoi, area_km2=e.area_km2,
        requester=requester, submitted_at=e.submitted_at, kind=e.kind, justification=e.justification,
        funding_reference=e.funding_reference, scenes=[scene_v1(s) for s in e.scenes],
        tasking=tasking_v1(e.tasking) if e.tasking else None, priority=e.priority,
        quote=quote_v1(e.quote) if e.quote else None))


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
