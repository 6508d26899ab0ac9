"""Records an order intent for each accepted request (group ``provisioning.orders``)."""

from __future__ import annotations

from datetime import UTC, datetime

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import arbitration
from uuid6 import uuid7

from provisioning_service.domain.model import OrderIntent

GROUP = "provisioning.orders"


def arbitration_handler(repo):
    async def handle(event: CloudEvent) -> None:
        if event.type != arbitration.DECISION_RECORDED:
            return
        d = arbitration.DecisionRecordedV1.model_validate(event.data)
        order = OrderIntent.for_decision(decision=d.decision, request_id=d.request_id, order_id=str(uuid7()),
                                         mission=d.mission, cell=d.cell, area_km2=d.accepted_area_km2,
                                         at=datetime.now(UTC))
        if order is not None:
            await repo.add(order)  # a second delivery collides on the request id: no second order

    return handle
