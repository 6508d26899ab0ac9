"""The quota ledger's consumers: a hold for each acceptance arbitration records (group
``arbitration.quota-holds``, on its own case events), a release for each request cancelled
(group ``arbitration.quota-releases``, on the requests events: the cell's hold and any prepaid-package
draw). Each change is applied once per
incoming event, by any replica; an entry id already in the ledger changes nothing.

Every acceptance holds before it is recorded (``service_layer.decisions``), so this hold normally
finds ``hold:<case>`` there and changes nothing; it remains for acceptances recorded otherwise
(before that check existed). One the budget cannot take is set aside in the group's dead-letter
topic with the reason saying what is left, to be replayed once the budget is raised."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration, requests

from arbitration_service.service_layer import packages, quotas

HOLDS = "arbitration.quota-holds"  # upstream: arbitration (its own decisions)
RELEASES = "arbitration.quota-releases"  # upstream: requests (cancellations)
ACCEPTED = ("accepted", "accepted-partially")


def decisions(q: quotas.Quotas) -> Handler:
    async def recorded(d: arbitration.DecisionRecordedV1, event: CloudEvent) -> None:
        if d.decision in ACCEPTED and d.accepted_area_km2 > 0:
            await quotas.hold(q, quotas.HoldQuota(case_id=d.case_id, cell=d.cell, mission=d.mission,
                                                  km2=d.accepted_area_km2, at=d.decided_at))

    return dispatch({arbitration.DECISION_RECORDED: (arbitration.DecisionRecordedV1, recorded)})


def cancellations(q: quotas.Quotas, pk: packages.Packages | None = None) -> Handler:
    async def cancelled(c: requests.RequestCancelledV1, event: CloudEvent) -> None:
        await quotas.release(q, c.request_id, "cancelled", c.cancelled_at)  # case id = request id
        if pk is not None:  # and what it drew from a prepaid package, if anything
            await packages.give_back(pk, c.request_id, "cancelled", c.cancelled_at)

    return dispatch({requests.REQUEST_CANCELLED: (requests.RequestCancelledV1, cancelled)})
