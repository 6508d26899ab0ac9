"""Acquisitions in progress, learnt from provisioning events (group ``catalogue.acquisitions``)."""

from __future__ import annotations

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning

from catalogue_service.adapters.acquisitions import Acquisitions

GROUP = "catalogue.acquisitions"


def provisioning_handler(acquisitions: Acquisitions):
    async def handle(event: CloudEvent) -> None:
        if event.type != provisioning.ORDER_RECORDED:
            return
        order = provisioning.OrderRecordedV1.model_validate(event.data)
        await acquisitions.record(order.order_id, order.request_id, order.mission, order.area_km2,
                                  order.recorded_at)

    return handle
