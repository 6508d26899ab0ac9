"""Acquisitions in progress, learnt from provisioning events (group ``catalogue.acquisitions``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import provisioning as prov

from catalogue_service.adapters.acquisitions import Acquisitions

GROUP = "catalogue.acquisitions"


def provisioning_handler(acquisitions: Acquisitions) -> Handler:
    async def ordered(o: prov.OrderRecordedV1, _: CloudEvent) -> None:
        await acquisitions.record(o.order_id, o.request_id, o.mission, o.area_km2, o.recorded_at)

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered)})
