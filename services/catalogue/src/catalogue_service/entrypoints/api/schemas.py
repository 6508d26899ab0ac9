"""HTTP schemas of the catalogue's own API (``<Entity>Public``). STAC answers are STAC JSON as the
index builds it, not models of ours."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from catalogue_service.domain.acquisitions import Acquisition


class AcquisitionPublic(BaseModel):
    order_id: str
    request_id: str
    mission: str
    area_km2: float
    ordered_at: datetime
    status: str

    @classmethod
    def of(cls, a: Acquisition) -> AcquisitionPublic:
        return cls(order_id=a.order_id, request_id=a.request_id, mission=a.mission, area_km2=a.area_km2,
                   ordered_at=a.ordered_at, status=a.status)
