"""Status of requests, learnt from the arbitration events (group ``requests.review-status``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration as arb

from requests_service.entrypoints.consumers.apply import apply
from requests_service.service_layer.context import Requests

GROUP = "requests.review-status"  # upstream: arbitration


def handler(ctx: Requests) -> Handler:
    async def opened(p: arb.CaseOpenedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event, lambda r: r.review_opened(p.cell, p.opened_at))

    async def decided(p: arb.DecisionRecordedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event,
                    lambda r: r.decided(p.decision, p.reason, p.accepted_area_km2, p.cell, p.decided_at,
                                        p.decided_by))

    return dispatch({arb.CASE_OPENED: (arb.CaseOpenedV1, opened),
                     arb.DECISION_RECORDED: (arb.DecisionRecordedV1, decided)})
