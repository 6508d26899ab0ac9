"""``/api/provisioning/orders``: the orders, for supply operators, and what they may do to one
(409 with the reason when its state does not allow it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query

from provisioning_service.domain.model import STATES
from provisioning_service.entrypoints.api.schemas import OrderAction, OrderPage, OrderPublic
from provisioning_service.entrypoints.deps import Ctx, OrderOperator, OrderReader
from provisioning_service.service_layer import handlers

router = APIRouter(prefix="/api/provisioning", tags=["provisioning"])
Action = Annotated[OrderAction | None, Body()]


@router.get("/orders", response_model=OrderPage, summary="Orders, newest first (operators, admins)")
async def list_orders(
    ctx: Ctx,
    _: OrderReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
    request_id: Annotated[str | None, Query(max_length=64, description="only the order of this request")] = None,
    status: Annotated[str | None, Query(max_length=20, pattern="^(" + "|".join(STATES) + ")$",
                                        description="only orders in this state")] = None,
) -> OrderPage:
    orders = await handlers.list_orders(ctx, limit, before, request_id, status)
    items = [OrderPublic.of(o) for o in orders]
    return OrderPage(items=items, next_before=items[-1].recorded_at if len(items) == limit else None)


def _id(order_id: str) -> str:
    return order_id[:64]


@router.post("/orders/{order_id}/confirm", response_model=OrderPublic,
             summary="Let the order be placed (an order held for its price: accept the price)")
async def confirm(ctx: Ctx, _: OrderOperator, order_id: str) -> OrderPublic:
    return OrderPublic.of(await handlers.confirm(ctx, _id(order_id)))


@router.post("/orders/{order_id}/hold", response_model=OrderPublic, summary="Hold the order before it is placed")
async def hold(ctx: Ctx, actor: OrderOperator, order_id: str, body: Action = None) -> OrderPublic:
    reason = (body.reason if body else None) or f"held by {actor.subject}"
    return OrderPublic.of(await handlers.hold(ctx, _id(order_id), reason))


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic,
             summary="Cancel the order (at Airbus too once placed, before production)")
async def cancel(ctx: Ctx, actor: OrderOperator, order_id: str, body: Action = None) -> OrderPublic:
    reason = (body.reason if body else None) or f"cancelled by {actor.subject}"
    return OrderPublic.of(await handlers.cancel(ctx, _id(order_id), reason))


@router.post("/orders/{order_id}/retry", response_model=OrderPublic,
             summary="Try a failed delivery again")
async def retry(ctx: Ctx, _: OrderOperator, order_id: str) -> OrderPublic:
    return OrderPublic.of(await handlers.retry(ctx, _id(order_id)))
