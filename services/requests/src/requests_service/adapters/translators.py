"""Domain events → wire events (``dinamis_contracts``)."""

from __future__ import annotations

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import requests as contract

from requests_service.domain.model import Request, RequestSubmitted, StatusChanged


def outgoing(request: Request) -> list[Outgoing]:
    out = []
    for event in request.events:
        if isinstance(event, RequestSubmitted):
            payload = contract.RequestSubmittedV1(
                request_id=request.id,
                title=request.title,
                mission=request.mission,
                aoi=request.aoi,
                area_km2=request.area_km2,
                requester=contract.Requester(
                    user_id=request.requester.user_id,
                    entity_id=request.requester.entity_id,
                    entity_category=request.requester.entity_category,
                ),
                submitted_at=request.submitted_at,
            )
            kind = contract.REQUEST_SUBMITTED
        elif isinstance(event, StatusChanged):
            payload = contract.RequestStatusChangedV1(
                request_id=request.id, status=str(event.status), previous_status=str(event.previous),
                cell=request.cell, order_id=request.order_id, changed_at=event.at,
            )
            kind = contract.REQUEST_STATUS_CHANGED
        else:
            continue
        ce = CloudEvent(type=kind, source=contract.SOURCE, subject=request.id, data=payload.model_dump(mode="json"))
        out.append(Outgoing(contract.TOPIC, ce))
    return out
