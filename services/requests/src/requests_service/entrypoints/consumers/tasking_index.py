"""The pending-tasking projection, from this service's own request events (group
``requests.tasking-index``): a submitted tasking is indexed by place and time; a request rejected,
cancelled, failed, expired, delivered or closed is removed. The index is idempotent and a removal
wins over an addition in either order (``adapters.tasking_index``), so redeliveries, replays and the
retry topic's reordering change nothing."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import requests as req

from requests_service.service_layer import offers
from requests_service.service_layer.ports import PendingTasking

GROUP = "requests.tasking-index"  # upstream: requests (its own events)


def handler(index: offers.PendingTaskings) -> Handler:
    async def submitted(p: req.RequestSubmittedV1, _: CloudEvent) -> None:
        if p.kind != "tasking" or p.tasking is None:
            return
        await offers.tasking_submitted(index, PendingTasking(
            request_id=p.request_id, mission=p.mission, mode=p.tasking.mode, aoi=p.aoi,
            window_start=p.tasking.window_start, window_end=p.tasking.window_end))

    async def status_changed(p: req.RequestStatusChangedV1, _: CloudEvent) -> None:
        await offers.status_changed(index, p.request_id, p.status, p.changed_at)

    async def cancelled(p: req.RequestCancelledV1, _: CloudEvent) -> None:
        await offers.status_changed(index, p.request_id, "cancelled", p.cancelled_at)

    return dispatch({req.REQUEST_SUBMITTED: (req.RequestSubmittedV1, submitted),
                     req.REQUEST_STATUS_CHANGED: (req.RequestStatusChangedV1, status_changed),
                     req.REQUEST_CANCELLED: (req.RequestCancelledV1, cancelled)})
