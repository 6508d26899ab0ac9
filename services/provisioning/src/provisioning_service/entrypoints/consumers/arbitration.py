"""Records an order intent for each accepted request, from the arbitration events (group
``provisioning.orders``)."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration as arb

from provisioning_service.service_layer import handlers
from provisioning_service.service_layer.context import Provisioning

GROUP = "provisioning.orders"  # upstream: arbitration


def handler(ctx: Provisioning) -> Handler:
    async def decided(d: arb.DecisionRecordedV1, _: CloudEvent) -> None:
        await handlers.record_order(ctx, handlers.RecordOrder(
            decision=d.decision, request_id=d.request_id, mission=d.mission, cell=d.cell,
            accepted_area_km2=d.accepted_area_km2))

    return dispatch({arb.DECISION_RECORDED: (arb.DecisionRecordedV1, decided)})
