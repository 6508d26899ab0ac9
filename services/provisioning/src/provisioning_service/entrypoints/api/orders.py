"""``/api/provisioning/orders``: order intents, for supply operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from provisioning_service.entrypoints.api.schemas import OrderPage, OrderPublic
from provisioning_service.entrypoints.deps import Ctx, OrderReader
from provisioning_service.service_layer import handlers

router = APIRouter(prefix="/api/provisioning", tags=["provisioning"])


@router.get("/orders", response_model=OrderPage, summary="Order intents, newest first (operators, admins)")
async def list_orders(
    ctx: Ctx,
    _: OrderReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
    request_id: Annotated[str | None, Query(max_length=64, description="only the order of this request")] = None,
) -> OrderPage:
    orders = await handlers.list_orders(ctx, limit, before, request_id)
    items = [OrderPublic.of(o) for o in orders]
    return OrderPage(items=items, next_before=items[-1].recorded_at if len(items) == limit else None)
