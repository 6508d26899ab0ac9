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

    return dispatch({prov.ORDER_RECORDED: (prov.OrderRecordedV1, ordered)})
