"""Records an order intent for each accepted request (group ``provisioning.orders``)."""

from __future__ import annotations

from datetime import UTC, datetime

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration as arb
from uuid6 import uuid7

from provisioning_service.domain.model import OrderIntent

GROUP = "provisioning.orders"


def arbitration_handler(repo) -> Handler:
    async def decided(d: arb.DecisionRecordedV1, _: CloudEvent) -> None:
        order = OrderIntent.for_decision(decision=d.decision, request_id=d.request_id, order_id=str(uuid7()),
                                         mission=d.mission, cell=d.cell, area_km2=d.accepted_area_km2,
                                         at=datetime.now(UTC))
        if order is not None:
            await repo.add(order)  # a second delivery collides on the request id: no second order

    return dispatch({arb.DECISION_RECORDED: (arb.DecisionRecordedV1, decided)})

