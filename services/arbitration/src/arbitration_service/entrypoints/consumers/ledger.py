"""The quota ledger's consumers: a release for each request cancelled or expired (group
``arbitration.quota-releases``, on the requests events): the cell's hold and any prepaid-package
draw; on each delivery, the delivered km² committed and the rest released, and on an order that
failed or was cancelled, everything released (group ``arbitration.deliveries``, on the provisioning
events). Each change is applied once per incoming event, by any replica; an entry id already in the
ledger changes nothing. Holds need no consumer: every acceptance, a person's or a rule's, holds
before it is recorded (``service_layer.decisions``, ``handlers.open_case``)."""

from __future__ import annotations

from datetime import datetime

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning, requests

from arbitration_service.service_layer import packages, quotas

RELEASES = "arbitration.quota-releases"  # upstream: requests (cancellations)
DELIVERIES = "arbitration.deliveries"  # upstream: provisioning (deliveries, failed and cancelled orders)


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


def deliveries(q: quotas.Quotas, pk: packages.Packages | None = None) -> Handler:
    async def delivered(d: provisioning.DeliveryCompletedV1, event: CloudEvent) -> None:
        await quotas.deliver(q, d.request_id, d.delivered_km2, d.delivered_at)  # case id = request id
        if pk is not None:
            await packages.spend(pk, d.request_id, d.delivered_km2, d.delivered_at)

    async def ended(request_id: str, reason: str, at: datetime) -> None:
        await quotas.release(q, request_id, reason, at)
        if pk is not None:
            await packages.give_back(pk, request_id, reason, at)

    async def failed(f: provisioning.OrderFailedV1, event: CloudEvent) -> None:
        await ended(f.request_id, "failed", f.failed_at)

    async def cancelled(c: provisioning.OrderCancelledV1, event: CloudEvent) -> None:
        await ended(c.request_id, "order-cancelled", c.cancelled_at)

    return dispatch({provisioning.DELIVERY_COMPLETED: (provisioning.DeliveryCompletedV1, delivered),
                     provisioning.ORDER_FAILED: (provisioning.OrderFailedV1, failed),
                     provisioning.ORDER_CANCELLED: (provisioning.OrderCancelledV1, cancelled)})
