"""From the requests events (group ``arbitration.cases``): a case opens for each submitted request
(with what the cell needs of it: kind, priority, justification, the frozen quote and its offers),
goes back to review when the requester answers the cell's question, and closes when the request is
cancelled or expires (a tasking whose window ended before it was ordered). Each event is applied
once (``applied=event.id``); an event about a request that has no case here can never succeed, and
is dead-lettered at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dinamis_common.messaging.consumer import Handler, PermanentError, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests as contract

from arbitration_service.domain.errors import CaseNotFound
from arbitration_service.domain.model import Case
from arbitration_service.service_layer import handlers
from arbitration_service.service_layer.context import Arbitration

GROUP = "arbitration.cases"  # upstream: requests
EXPIRED = "expired"


def handler(ctx: Arbitration) -> Handler:
    async def apply(request_id: str, event: CloudEvent, change: Callable[[Case], Any]) -> None:
        try:
            await handlers.apply_event(ctx, request_id, event.id, change)
        except CaseNotFound as exc:
            raise PermanentError(str(exc)) from exc

    async def submitted(s: contract.RequestSubmittedV1, _: CloudEvent) -> None:
        await handlers.open_case(ctx, handlers.OpenCase(
            request_id=s.request_id, mission=s.mission, area_km2=s.area_km2, requester=s.requester.model_dump(),
            priority=s.priority, kind=s.kind, justification=s.justification, funding_reference=s.funding_reference,
            quote=s.quote.model_dump(mode="json") if s.quote else None,
            tasking=s.tasking.model_dump(mode="json") if s.tasking else None,
            scenes=[scene.model_dump(mode="json", exclude={"aoi"}) for scene in s.scenes]))

    async def answered(p: contract.InformationProvidedV1, event: CloudEvent) -> None:
        await apply(p.request_id, event, lambda c: c.information_provided(p.answer, p.provided_by, p.provided_at))

    async def cancelled(p: contract.RequestCancelledV1, event: CloudEvent) -> None:
        await apply(p.request_id, event, lambda c: c.cancel(p.reason, p.cancelled_by, p.cancelled_at))

    async def status_changed(p: contract.RequestStatusChangedV1, event: CloudEvent) -> None:
        if p.status == EXPIRED:  # the only status this service learns from the requests service's moves
            await apply(p.request_id, event, lambda c: c.expire(p.changed_at))

    return dispatch({contract.REQUEST_STATUS_CHANGED: (contract.RequestStatusChangedV1, status_changed),
                     contract.REQUEST_SUBMITTED: (contract.RequestSubmittedV1, submitted),
                     contract.INFORMATION_PROVIDED: (contract.InformationProvidedV1, answered),
                     contract.REQUEST_CANCELLED: (contract.RequestCancelledV1, cancelled)})
