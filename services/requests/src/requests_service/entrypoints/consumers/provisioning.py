"""Status of requests, learnt from the provisioning events (group ``requests.order-status``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning as prov

from requests_service.entrypoints.consumers.apply import apply
from requests_service.service_layer.context import Requests

GROUP = "requests.order-status"  # upstream: provisioning


def handler(ctx: Requests) -> Handler:
    async def ordered(p: prov.OrderRecordedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event, lambda r: r.ordered(p.order_id, p.recorded_at))

    async def placed(p: prov.OrderPlacedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event, lambda r: r.placed(p.order_id, p.airbus_order_id, p.placed_at))

    async def progressed(p: prov.AcquisitionProgressedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event,
                    lambda r: r.acquisition(p.attempt, p.outcome, p.coverage_percent, p.acquired_at))

    async def delivered(p: prov.DeliveryCompletedV1, event: CloudEvent) -> None:
        item_id = str(p.item.get("id", ""))
        await apply(ctx, p.request_id, event,
                    lambda r: r.delivered(p.collection, item_id, p.delivered_km2, p.delivered_at))

    async def failed(p: prov.OrderFailedV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event, lambda r: r.order_failed(p.reason, p.failed_at))

    async def cancelled(p: prov.OrderCancelledV1, event: CloudEvent) -> None:
        await apply(ctx, p.request_id, event, lambda r: r.order_cancelled(p.reason, p.cancelled_at))

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered),
                     prov.ORDER_PLACED: (prov.OrderPlacedV1, placed),
                     prov.ACQUISITION_PROGRESSED: (prov.AcquisitionProgressedV1, progressed),
                     prov.DELIVERY_COMPLETED: (prov.DeliveryCompletedV1, delivered),
                     prov.ORDER_FAILED: (prov.OrderFailedV1, failed),
                     prov.ORDER_CANCELLED: (prov.OrderCancelledV1, cancelled)})
