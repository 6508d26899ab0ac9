"""Opens a case for each submitted request (group ``arbitration.cases``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests

from arbitration_service.domain.model import AutoRule
from arbitration_service.service_layer.handlers import CaseRepository, open_case

GROUP = "arbitration.cases"


def requests_handler(repo: CaseRepository, rule: AutoRule) -> Handler:
    async def submitted(s: requests.RequestSubmittedV1, _: CloudEvent) -> None:
        await open_case(request_id=s.request_id, mission=s.mission, area_km2=s.area_km2,
                        requester=s.requester.model_dump(), repo=repo, rule=rule)

    return dispatch({requests.REQUEST_SUBMITTED: (requests.RequestSubmittedV1, submitted)})
