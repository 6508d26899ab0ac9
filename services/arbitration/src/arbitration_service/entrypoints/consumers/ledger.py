"""The quota ledger's consumer: a release for each request cancelled or expired (group
``arbitration.quota-releases``, on the requests events): the cell's hold and any prepaid-package
draw. Each change is applied once per incoming event, by any replica; an entry id already in the
ledger changes nothing. Holds need no consumer: every acceptance, a person's or a rule's, holds
before it is recorded (``service_layer.decisions``, ``handlers.open_case``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests

from arbitration_service.service_layer import packages, quotas

RELEASES = "arbitration.quota-releases"  # upstream: requests (cancellations)


def releases(q: quotas.Quotas, pk: packages.Packages | None = None) -> Handler:
    async def cancelled(c: requests.RequestCancelledV1, event: CloudEvent) -> None:
        await quotas.release(q, c.request_id, "cancelled", c.cancelled_at)  # case id = request id
        if pk is not None:  # and what it drew from a prepaid package, if anything
            await packages.give_back(pk, c.request_id, "cancelled", c.cancelled_at)

    async def expired(c: requests.RequestStatusChangedV1, event: CloudEvent) -> None:
        if c.status != "expired":
            return
        await quotas.release(q, c.request_id, "expired", c.changed_at)
        if pk is not None:
            await packages.give_back(pk, c.request_id, "expired", c.changed_at)

    return dispatch({requests.REQUEST_CANCELLED: (requests.RequestCancelledV1, cancelled),
                     requests.REQUEST_STATUS_CHANGED: (requests.RequestStatusChangedV1, expired)})
