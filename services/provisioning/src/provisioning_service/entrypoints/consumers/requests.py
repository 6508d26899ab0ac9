"""The request read model, learnt from the requests events (group ``provisioning.requests``): what an
order needs of each submitted request (kind, mission, area, scenes, tasking parameters, frozen quote)."""

from __future__ import annotations

from decimal import Decimal

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests as req

from provisioning_service.domain.requests import Quote, RequestDetails, Scene, Tasking
from provisioning_service.service_layer import handlers
from provisioning_service.service_layer.context import Provisioning

GROUP = "provisioning.requests"  # upstream: requests


def details(p: req.RequestSubmittedV1) -> RequestDetails:
    t, q = p.tasking, p.quote
    return RequestDetails(
        request_id=p.request_id, kind=p.kind, mission=p.mission, aoi=p.aoi, area_km2=p.area_km2,
        scenes=tuple(Scene(s.item_id, s.aoi, s.area_km2) for s in p.scenes),
        tasking=Tasking(t.window_start, t.window_end, t.max_cloud_cover, t.max_incidence_angle, t.mode, t.priority)
        if t else None,
        quote=Quote(q.area_km2, q.billed_km2, Decimal(q.price_eur), q.payer, q.invoicing_minimum_km2) if q else None)


def handler(ctx: Provisioning) -> Handler:
    async def submitted(p: req.RequestSubmittedV1, _: CloudEvent) -> None:
        await handlers.request_submitted(ctx, details(p))

    return dispatch({req.REQUEST_SUBMITTED: (req.RequestSubmittedV1, submitted)})
