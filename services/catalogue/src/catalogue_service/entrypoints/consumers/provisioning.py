"""Acquisitions in progress, and delivered products entering the shared catalogue, learnt from the
provisioning events (group ``catalogue.acquisitions``). A delivery that cannot enter it is set
aside at once with its reason (dead letter): trying again would not change it."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, PermanentError, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning as prov

from catalogue_service.domain.acquisitions import Acquisition
from catalogue_service.domain.deliveries import InvalidDelivery
from catalogue_service.service_layer import handlers
from catalogue_service.service_layer.context import Catalogue
from catalogue_service.service_layer.ports import InvalidItem

GROUP = "catalogue.acquisitions"  # upstream: provisioning


def handler(ctx: Catalogue) -> Handler:
    async def ordered(o: prov.OrderRecordedV1, _: CloudEvent) -> None:
        await handlers.order_recorded(ctx, Acquisition(order_id=o.order_id, request_id=o.request_id,
                                                       mission=o.mission, area_km2=o.area_km2,
                                                       ordered_at=o.recorded_at))

    async def delivered(d: prov.DeliveryCompletedV1, _: CloudEvent) -> None:
        try:
            await handlers.delivery_completed(ctx, d.item, mission=d.mission, collection=d.collection,
                                              request_id=d.request_id, order_id=d.order_id)
        except (InvalidDelivery, InvalidItem) as exc:
            raise PermanentError(str(exc)) from exc

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered),
                     prov.DELIVERY_COMPLETED: (prov.DeliveryCompletedV1, delivered)})
