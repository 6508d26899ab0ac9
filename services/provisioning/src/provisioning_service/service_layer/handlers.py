"""Use cases of the provisioning service: an order per accepted request (confirmed at once when the rule
says so), the request details an order needs, the list operators work from and their actions on an order,
and Airbus's notifications (which only make an order due now)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from provisioning_service.domain.model import ACQUIRING, PLACED, Order, OrderNotAllowed, OrderNotFound
from provisioning_service.domain.requests import RequestDetails
from provisioning_service.service_layer.airbus_port import AirbusError
from provisioning_service.service_layer.context import Provisioning

log = logging.getLogger(__name__)
ATTEMPTS = 5  # a change refused because another writer moved the order first is decided again


@dataclass(frozen=True)
class RecordOrder:
    """A decision of the arbitration cell about one request."""

    decision: str
    request_id: str
    mission: str
    cell: str
    accepted_area_km2: float


async def record_order(ctx: Provisioning, cmd: RecordOrder) -> Order | None:
    """The order of an accepted request (``None`` for any other decision). A second delivery collides on
    the request id: still one order."""
    now = ctx.clock()
    order = Order.for_decision(decision=cmd.decision, request_id=cmd.request_id, order_id=ctx.new_id(),
                               mission=cmd.mission, cell=cmd.cell, area_km2=cmd.accepted_area_km2, at=now)
    if order is None:
        return None
    if ctx.rules.auto_confirm:
        order.confirm(now)
    await ctx.orders.add(order)
    return order


async def request_submitted(ctx: Provisioning, request: RequestDetails) -> None:
    assert ctx.requests is not None
    await ctx.requests.add(request)


async def list_orders(ctx: Provisioning, limit: int, before: datetime | None = None, request_id: str | None = None,
                      status: str | None = None) -> list[Order]:
    return await ctx.orders.list(limit, before, request_id, status)


async def change(ctx: Provisioning, order_id: str, action: Callable[[Order], None]) -> Order:
    """Apply ``action`` to the order and store it, deciding again if another writer (the worker) moved it
    meanwhile; raises :class:`OrderNotFound` or the action's :class:`OrderNotAllowed`."""
    for _ in range(ATTEMPTS):
        order = await ctx.orders.find(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        action(order)
        if await ctx.orders.save(order):
            return order
    raise OrderNotAllowed(f"order {order_id} keeps changing: try again")


async def confirm(ctx: Provisioning, order_id: str) -> Order:
    return await change(ctx, order_id, lambda o: o.confirm(ctx.clock()))


async def hold(ctx: Provisioning, order_id: str, reason: str) -> Order:
    return await change(ctx, order_id, lambda o: o.hold(reason, ctx.clock()))


async def retry(ctx: Provisioning, order_id: str) -> Order:
    return await change(ctx, order_id, lambda o: o.retry(ctx.clock()))


async def cancel(ctx: Provisioning, order_id: str, reason: str) -> Order:
    """Cancelled here, and at Airbus first once placed (Airbus refuses once production started: 409)."""
    order = await ctx.orders.find(order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    if "cancel" not in order.allowed_actions():
        order.cancel(reason, ctx.clock())  # raises, saying why
    if order.status in (PLACED, ACQUIRING) and order.airbus_order_id:
        assert ctx.airbus is not None
        try:
            await ctx.airbus.cancel(order.airbus_order_id)
        except AirbusError as exc:
            raise OrderNotAllowed(f"Airbus did not cancel order {order.airbus_order_id}: {exc.reason}") from exc
    return await change(ctx, order_id, lambda o: o.cancel(reason, ctx.clock()))


async def notified(ctx: Provisioning, *, customer_reference: str | None, airbus_order_id: str | None) -> bool:
    """Airbus says an order changed: it is due now (its state is read back from Airbus by the worker).
    ``False`` when no order of ours matches."""
    for _ in range(ATTEMPTS):
        order = await ctx.orders.get(customer_reference) if customer_reference else None
        if order is None or (airbus_order_id and order.airbus_order_id not in (None, airbus_order_id)):
            return False
        if not order.due:
            return True
        now = ctx.clock()
        if order.next_check_at is not None and order.next_check_at <= now:
            return True
        order.next_check_at, order.checks = now, 0
        if await ctx.orders.save(order):
            return True
    return True
