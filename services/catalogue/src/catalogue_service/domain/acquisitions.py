"""Acquisitions in progress: images ordered at Airbus and not yet delivered. The delivered
product will later enter the STAC index; until then the catalogue knows an image is coming."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ORDERED = "ordered"


@dataclass(frozen=True)
class Acquisition:
    order_id: str
    request_id: str
    mission: str
    area_km2: float
    ordered_at: datetime
    status: str = ORDERED
