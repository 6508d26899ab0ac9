"""Use cases of the provisioning service: an order intent per accepted request, and the list
operators work from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from provisioning_service.domain.model import OrderIntent
from provisioning_service.service_layer.context import Provisioning


@dataclass(frozen=True)
class RecordOrder:
    """A decision of the arbitration cell about one request."""

    decision: str
    request_id: str
    mission: str
    cell: str
    accepted_area_km2: float


async def record_order(ctx: Provisioning, cmd: RecordOrder) -> OrderIntent | None:
    """The order intent of an accepted request (``None`` for any other decision). A second
    delivery collides on the request id: still one order."""
    order = OrderIntent.for_decision(decision=cmd.decision, request_id=cmd.request_id, order_id=ctx.new_id(),
                                     mission=cmd.mission, cell=cmd.cell, area_km2=cmd.accepted_area_km2,
                                     at=ctx.clock())
    if order is None:
        return None
    await ctx.orders.add(order)
    return order


async def list_orders(ctx: Provisioning, limit: int, before: datetime | None = None,
                      request_id: str | None = None) -> list[OrderIntent]:
    return await ctx.orders.list(limit, before, request_id)
