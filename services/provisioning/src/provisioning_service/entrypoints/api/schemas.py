"""HTTP schemas of the provisioning API (``<Entity>Public``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from provisioning_service.domain.model import OrderIntent


class OrderPublic(BaseModel):
    order_id: str
    request_id: str
    mission: str
    cell: str
    area_km2: float
    status: str
    recorded_at: datetime

    @classmethod
    def of(cls, o: OrderIntent) -> OrderPublic:
        return cls(order_id=o.order_id, request_id=o.request_id, mission=o.mission, cell=o.cell,
                   area_km2=o.area_km2, status=o.status, recorded_at=o.recorded_at)


class OrderPage(BaseModel):
    items: list[OrderPublic]
    next_before: datetime | None
