"""Acquisitions in progress, learnt from the provisioning events (group ``catalogue.acquisitions``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning as prov

from catalogue_service.domain.acquisitions import Acquisition
from catalogue_service.service_layer import handlers
from catalogue_service.service_layer.context import Catalogue

GROUP = "catalogue.acquisitions"  # upstream: provisioning


def handler(ctx: Catalogue) -> Handler:
    async def ordered(o: prov.OrderRecordedV1, _: CloudEvent) -> None:
        await handlers.order_recorded(ctx, Acquisition(order_id=o.order_id, request_id=o.request_id,
                                                       mission=o.mission, area_km2=o.area_km2,
                                                       ordered_at=o.recorded_at))

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered)})
