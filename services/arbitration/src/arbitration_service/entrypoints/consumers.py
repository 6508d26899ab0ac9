"""Opens a case for each submitted request (group ``arbitration.cases``)."""

from __future__ import annotations

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests

from arbitration_service.domain.model import AutoRule
from arbitration_service.service_layer.handlers import CaseRepository, open_case

GROUP = "arbitration.cases"


def requests_handler(repo: CaseRepository, rule: AutoRule):
    async def handle(event: CloudEvent) -> None:
        if event.type != requests.REQUEST_SUBMITTED:
            return
        submitted = requests.RequestSubmittedV1.model_validate(event.data)
        await open_case(request_id=submitted.request_id, mission=submitted.mission,
                        area_km2=submitted.area_km2, requester=submitted.requester.model_dump(),
                        repo=repo, rule=rule)

    return handle
