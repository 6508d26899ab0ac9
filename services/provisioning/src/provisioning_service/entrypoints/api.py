"""``/api/provisioning/orders``: order intents, for supply operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

router = APIRouter(prefix="/api/provisioning", tags=["provisioning"])


class OrderPublic(BaseModel):
    order_id: str
    request_id: str
    mission: str
    cell: str
    area_km2: float
    status: str
    recorded_at: datetime


class OrderPage(BaseModel):
    items: list[OrderPublic]
    next_before: datetime | None


@router.get("/orders", response_model=OrderPage, summary="Order intents, newest first (operators, admins)")
async def list_orders(
    request: Request,
    _: Annotated[Principal, Depends(require_roles("operator", "admin"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
    request_id: Annotated[str | None, Query(max_length=64, description="only the order of this request")] = None,
) -> OrderPage:
    docs = await request.app.state.repository.list(limit, before, request_id)
    items = [OrderPublic.model_validate(d) for d in docs]
    return OrderPage(items=items, next_before=items[-1].recorded_at if len(items) == limit else None)
