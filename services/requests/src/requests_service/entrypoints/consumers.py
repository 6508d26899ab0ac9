"""Status of requests, learnt from arbitration events (group ``requests.review-status``) and
provisioning events (group ``requests.order-status``). One group per upstream topic: members of
one group with different subscriptions would keep rebalancing each other."""

from __future__ import annotations

from dinamis_common.messaging.consumer import PermanentError
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration, provisioning

from requests_service.domain.errors import RequestNotFound
from requests_service.domain.model import Request
from requests_service.service_layer.handlers import apply_event
from requests_service.service_layer.ports import RequestRepository

REVIEW_GROUP = "requests.review-status"
ORDER_GROUP = "requests.order-status"


def arbitration_handler(repo: RequestRepository):
    async def handle(event: CloudEvent) -> None:
        if event.type == arbitration.CASE_OPENED:
            opened = arbitration.CaseOpenedV1.model_validate(event.data)

            def change(r: Request) -> None:
                r.review_opened(opened.cell, opened.opened_at)

            await _apply(opened.request_id, event, change, repo)
        elif event.type == arbitration.DECISION_RECORDED:
            d = arbitration.DecisionRecordedV1.model_validate(event.data)

            def change(r: Request) -> None:
                r.decided(d.decision, d.reason, d.accepted_area_km2, d.cell, d.decided_at)

            await _apply(d.request_id, event, change, repo)

    return handle


def provisioning_handler(repo: RequestRepository):
    async def handle(event: CloudEvent) -> None:
        if event.type == provisioning.ORDER_RECORDED:
            o = provisioning.OrderRecordedV1.model_validate(event.data)

            def change(r: Request) -> None:
                r.ordered(o.order_id, o.recorded_at)

            await _apply(o.request_id, event, change, repo)

    return handle


async def _apply(request_id: str, event: CloudEvent, change, repo: RequestRepository) -> None:
    try:
        await apply_event(request_id, event.id, change, repo)
    except RequestNotFound as exc:
        raise PermanentError(str(exc)) from exc
