"""Events of the Airbus provisioning domain (producer: provisioning service)."""

from __future__ import annotations

from datetime import datetime

from dinamis_contracts.base import Payload

TOPIC = "provisioning.order.events.v1"
SOURCE = "/dinamis/provisioning"
ORDER_RECORDED = "fr.dinamis.provisioning.order.recorded.v1"


class OrderRecordedV1(Payload):
    order_id: str
    request_id: str
    mission: str
    area_km2: float
    recorded_at: datetime
    cell: str | None = None  # the cell whose decision it follows (added later: older events lack it)
