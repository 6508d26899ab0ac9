"""Order intents: what the supply operators will place with Airbus, one per accepted request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ORDERABLE_DECISIONS = frozenset({"accepted", "accepted-partially"})


@dataclass(frozen=True)
class OrderRecorded:
    """An order intent was recorded for an accepted request."""

    order_id: str
    request_id: str
    mission: str
    cell: str
    area_km2: float
    recorded_at: datetime


@dataclass
class OrderIntent:
    request_id: str
    order_id: str
    mission: str
    cell: str
    area_km2: float
    recorded_at: datetime
    status: str = "intent"
    events: list[OrderRecorded] = field(default_factory=list, repr=False)

    @classmethod
    def for_decision(cls, *, decision: str, request_id: str, order_id: str, mission: str, cell: str,
                     area_km2: float, at: datetime) -> OrderIntent | None:
        if decision not in ORDERABLE_DECISIONS:
            return None
        order = cls(request_id, order_id, mission, cell, area_km2, at)
        order.events.append(OrderRecorded(order_id, request_id, mission, cell, area_km2, at))
        return order
