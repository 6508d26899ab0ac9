"""``/api/catalogue/acquisitions``: images ordered and not yet delivered (operators, admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalogue_service.entrypoints.api.schemas import AcquisitionPublic
from catalogue_service.entrypoints.deps import AcquisitionReader, Ctx
from catalogue_service.service_layer import handlers

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"])


@router.get("/acquisitions", response_model=list[AcquisitionPublic],
            summary="Acquisitions in progress, newest first (operators, admins)")
async def acquisitions(ctx: Ctx, _: AcquisitionReader,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AcquisitionPublic]:
    return [AcquisitionPublic.of(a) for a in await handlers.recent_acquisitions(ctx, limit)]
