"""Opens a case for each submitted request, from the requests events (group ``arbitration.cases``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests as contract

from arbitration_service.service_layer import handlers
from arbitration_service.service_layer.context import Arbitration

GROUP = "arbitration.cases"  # upstream: requests


def handler(ctx: Arbitration) -> Handler:
    async def submitted(s: contract.RequestSubmittedV1, _: CloudEvent) -> None:
        await handlers.open_case(ctx, handlers.OpenCase(request_id=s.request_id, mission=s.mission,
                                                        area_km2=s.area_km2, requester=s.requester.model_dump()))

    return dispatch({contract.REQUEST_SUBMITTED: (contract.RequestSubmittedV1, submitted)})
