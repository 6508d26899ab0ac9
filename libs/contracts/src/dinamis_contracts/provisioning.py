"""Events of the Airbus provisioning domain (producer: provisioning service).

One order per accepted request (the request id is the Airbus customer reference). Its life:
``recorded`` (an order intent, waiting for confirmation) → ``placed`` (Airbus took it) →
``acquisition.progressed`` (tasking: each attempt, with the coverage reached so far) →
``delivery.completed`` (the product is in the object store and described as a STAC item), or
``failed`` / ``cancelled`` at any point before delivery.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from dinamis_contracts.base import Payload

TOPIC = "provisioning.order.events.v1"
SOURCE = "/dinamis/provisioning"
ORDER_RECORDED = "fr.dinamis.provisioning.order.recorded.v1"
ORDER_PLACED = "fr.dinamis.provisioning.order.placed.v1"
ORDER_FAILED = "fr.dinamis.provisioning.order.failed.v1"
ORDER_CANCELLED = "fr.dinamis.provisioning.order.cancelled.v1"
ACQUISITION_PROGRESSED = "fr.dinamis.provisioning.acquisition.progressed.v1"
DELIVERY_COMPLETED = "fr.dinamis.provisioning.delivery.completed.v1"


class OrderRecordedV1(Payload):
    order_id: str
    request_id: str
    mission: str
    area_km2: float
    recorded_at: datetime
    cell: str | None = None  # the cell whose decision it follows (added later: older events lack it)


class OrderPlacedV1(Payload):
    """Airbus accepted the order: from now on the request is ``ordered``."""

    order_id: str
    request_id: str
    mission: str
    kind: Literal["archive", "tasking"]
    airbus_order_id: str
    price_eur: Decimal  # what Airbus will invoice, checked against the frozen quote before placing
    area_km2: float
    placed_at: datetime
    cell: str | None = None


class OrderFailedV1(Payload):
    """A permanent failure (refused feasibility, price above the quote, Airbus refusing the order,
    a delivery that cannot be read after the operator's retries): the request becomes ``failed``
    and its quota hold is released."""

    order_id: str
    request_id: str
    reason: str
    failed_at: datetime
    cell: str | None = None


class OrderCancelledV1(Payload):
    """An operator cancelled the order before delivery: the hold is released."""

    order_id: str
    request_id: str
    reason: str
    cancelled_at: datetime
    cell: str | None = None


class AcquisitionProgressedV1(Payload):
    """One acquisition attempt of a tasking order (the request is ``acquiring``)."""

    order_id: str
    request_id: str
    attempt: int  # 1, 2, … in the order Airbus reported them
    outcome: Literal["acquired", "cloudy", "failed"]
    coverage_percent: float  # of the ordered area, all attempts so far (0–100)
    acquired_at: datetime


class DeliveryCompletedV1(Payload):
    """The product is stored (``assets`` are ``s3://bucket/key`` URLs) and described by ``item``, a
    STAC item (JSON) of ``collection`` with its licence and origin request. ``delivered_km2`` is what
    the ledger commits; ``ordered_km2 - delivered_km2`` is released."""

    order_id: str
    request_id: str
    mission: str
    collection: str  # the shared collection of the mission
    item: dict[str, Any]
    ordered_km2: float
    delivered_km2: float
    delivered_at: datetime
    cell: str | None = None
