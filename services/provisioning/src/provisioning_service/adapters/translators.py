"""Domain events → wire events (``dinamis_contracts.provisioning``), each from the event alone; the
CloudEvent's subject is the request id (one request's events stay in order)."""

from __future__ import annotations

from collections.abc import Iterable

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import provisioning as contract
from dinamis_contracts.base import Payload

from provisioning_service.domain import model as m


def _out(kind: str, request_id: str, payload: Payload) -> Outgoing:
    return Outgoing(contract.TOPIC, CloudEvent(type=kind, source=contract.SOURCE, subject=request_id,
                                               data=payload.model_dump(mode="json")))


def wire(e: object) -> Outgoing | None:
    match e:
        case m.OrderRecorded():
            return _out(contract.ORDER_RECORDED, e.request_id, contract.OrderRecordedV1(
                order_id=e.order_id, request_id=e.request_id, mission=e.mission, cell=e.cell, area_km2=e.area_km2,
                recorded_at=e.recorded_at))
        case m.OrderPlaced():
            return _out(contract.ORDER_PLACED, e.request_id, contract.OrderPlacedV1(
                order_id=e.order_id, request_id=e.request_id, mission=e.mission, kind=e.kind,
                airbus_order_id=e.airbus_order_id, price_eur=e.price_eur, area_km2=e.area_km2, placed_at=e.placed_at,
                cell=e.cell))
        case m.OrderFailed():
            return _out(contract.ORDER_FAILED, e.request_id, contract.OrderFailedV1(
                order_id=e.order_id, request_id=e.request_id, reason=e.reason, failed_at=e.failed_at, cell=e.cell))
        case m.OrderCancelled():
            return _out(contract.ORDER_CANCELLED, e.request_id, contract.OrderCancelledV1(
                order_id=e.order_id, request_id=e.request_id, reason=e.reason, cancelled_at=e.cancelled_at,
                cell=e.cell))
        case m.AcquisitionProgressed():
            return _out(contract.ACQUISITION_PROGRESSED, e.request_id, contract.AcquisitionProgressedV1(
                order_id=e.order_id, request_id=e.request_id, attempt=e.attempt, outcome=e.outcome,
                coverage_percent=e.coverage_percent, acquired_at=e.acquired_at))
        case m.DeliveryCompleted():
            return _out(contract.DELIVERY_COMPLETED, e.request_id, contract.DeliveryCompletedV1(
                order_id=e.order_id, request_id=e.request_id, mission=e.mission, collection=e.collection,
                item=e.item, ordered_km2=e.ordered_km2, delivered_km2=e.delivered_km2, delivered_at=e.delivered_at,
                cell=e.cell))
    return None


def outgoing(events: Iterable[object]) -> list[Outgoing]:
    return [o for o in map(wire, events) if o is not None]
