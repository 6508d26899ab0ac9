"""HTTP schemas of the provisioning API (``<Entity>Public``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from provisioning_service.domain.model import Order


class OrderPublic(BaseModel):
    order_id: str
    request_id: str
    mission: str
    cell: str
    area_km2: float
    status: str
    recorded_at: datetime
    updated_at: datetime | None = None
    kind: str | None = None
    reason: str | None = Field(None, description="why it is held or failed")
    airbus_order_id: str | None = None
    airbus_status: str | None = None
    price_eur: str | None = None
    coverage_percent: float | None = None
    next_check_at: datetime | None = None
    item_id: str | None = Field(None, description="the catalogue item once delivered")
    delivered_km2: float | None = None
    actions: list[str] = Field(description="what an operator may do now: confirm, hold, cancel, retry")

    @classmethod
    def of(cls, o: Order) -> OrderPublic:
        return cls(order_id=o.order_id, request_id=o.request_id, mission=o.mission, cell=o.cell,
                   area_km2=o.area_km2, status=o.status, recorded_at=o.recorded_at, updated_at=o.updated_at,
                   kind=o.kind, reason=o.reason, airbus_order_id=o.airbus_order_id, airbus_status=o.airbus_status,
                   price_eur=o.price_eur, coverage_percent=o.coverage_percent, next_check_at=o.next_check_at,
                   item_id=o.item_id, delivered_km2=o.delivered_km2, actions=o.allowed_actions())


class OrderPage(BaseModel):
    items: list[OrderPublic]
    next_before: datetime | None


class OrderAction(BaseModel):
    reason: str | None = Field(None, max_length=500, description="why (hold, cancel)")
