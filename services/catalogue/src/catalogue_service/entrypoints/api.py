"""``/api/catalogue/acquisitions``: images ordered and not yet delivered (operators, admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"])


class AcquisitionPublic(BaseModel):
    order_id: str
    request_id: str
    mission: str
    area_km2: float
    ordered_at: datetime
    status: str


@router.get("/acquisitions", response_model=list[AcquisitionPublic],
            summary="Acquisitions in progress, newest first (operators, admins)")
async def acquisitions(request: Request,
                       _: Annotated[Principal, Depends(require_roles("operator", "admin"))],
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AcquisitionPublic]:
    return [AcquisitionPublic(**row) for row in await request.app.state.acquisitions.recent(limit)]
