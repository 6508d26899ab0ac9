"""Status of requests, learnt from arbitration events (group ``requests.review-status``) and
provisioning events (group ``requests.order-status``); the entity read model, learnt from the
accounts entity events (group ``requests.entities``). One group per upstream topic: members of
one group with different subscriptions would keep rebalancing each other."""

from __future__ import annotations

from collections.abc import Callable

from dinamis_common.messaging.consumer import Handler, PermanentError, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts as acc
from dinamis_contracts import arbitration as arb
from dinamis_contracts import provisioning as prov

from requests_service.domain.entities import Entity
from requests_service.domain.errors import RequestNotFound
from requests_service.domain.model import Request
from requests_service.service_layer.handlers import apply_event
from requests_service.service_layer.ports import EntityDirectory, RequestRepository

REVIEW_GROUP = "requests.review-status"
ORDER_GROUP = "requests.order-status"
ENTITY_GROUP = "requests.entities"


def arbitration_handler(repo: RequestRepository) -> Handler:
    async def opened(p: arb.CaseOpenedV1, event: CloudEvent) -> None:
        await _apply(p.request_id, event, lambda r: r.review_opened(p.cell, p.opened_at), repo)

    async def decided(p: arb.DecisionRecordedV1, event: CloudEvent) -> None:
        await _apply(p.request_id, event,
                     lambda r: r.decided(p.decision, p.reason, p.accepted_area_km2, p.cell, p.decided_at), repo)

    return dispatch({arb.CASE_OPENED: (arb.CaseOpenedV1, opened),
                     arb.DECISION_RECORDED: (arb.DecisionRecordedV1, decided)})


def provisioning_handler(repo: RequestRepository) -> Handler:
    async def ordered(p: prov.OrderRecordedV1, event: CloudEvent) -> None:
        await _apply(p.request_id, event, lambda r: r.ordered(p.order_id, p.recorded_at), repo)

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered)})


def entities_handler(directory: EntityDirectory) -> Handler:
    """Every entity event carries the entity's whole public state: keep the newest version."""

    async def keep(p: acc.EntitySnapshot, _: CloudEvent) -> None:
        await directory.apply(Entity(entity_id=p.entity_id, name=p.name, kind=p.kind, status=p.status,
                                     eligible_missions=frozenset(p.eligible_missions), version=p.version))

    return dispatch({
        acc.ENTITY_SUBSCRIBED: (acc.EntitySubscribedV1, keep),
        acc.LICENCE_ACCEPTED: (acc.LicenceAcceptedV1, keep),
        acc.ENTITY_APPROVED: (acc.EntityApprovedV1, keep),
        acc.ENTITY_REJECTED: (acc.EntityRejectedV1, keep),
        acc.ENTITY_SUSPENDED: (acc.EntitySuspendedV1, keep),
        acc.ENTITY_ELIGIBILITY_CHANGED: (acc.EntityEligibilityChangedV1, keep),
    })


async def _apply(request_id: str, event: CloudEvent, change: Callable[[Request], None],
                 repo: RequestRepository) -> None:
    try:
        await apply_event(request_id, event.id, change, repo)
    except RequestNotFound as exc:
        raise PermanentError(str(exc)) from exc
