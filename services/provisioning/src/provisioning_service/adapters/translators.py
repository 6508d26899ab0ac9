"""Domain events → wire events (``dinamis_contracts.provisioning``), each from the event alone."""

from __future__ import annotations

from collections.abc import Iterable

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import provisioning as contract

from provisioning_service.domain.model import OrderRecorded


def order_recorded(e: OrderRecorded) -> Outgoing:
    payload = contract.OrderRecordedV1(order_id=e.order_id, request_id=e.request_id, mission=e.mission,
                                       cell=e.cell, area_km2=e.area_km2, recorded_at=e.recorded_at)
    return Outgoing(contract.TOPIC, CloudEvent(type=contract.ORDER_RECORDED, source=contract.SOURCE,
                                               subject=e.request_id, data=payload.model_dump(mode="json")))


def outgoing(events: Iterable[object]) -> list[Outgoing]:
    return [order_recorded(e) for e in events if isinstance(e, OrderRecorded)]
