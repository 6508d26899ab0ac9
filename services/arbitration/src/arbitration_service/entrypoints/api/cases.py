"""``/api/arbitration/cases``: the cases of the caller's cells."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from arbitration_service.entrypoints.api.schemas import CasePublic
from arbitration_service.entrypoints.deps import CaseReader, Ctx
from arbitration_service.service_layer import handlers

router = APIRouter(prefix="/api/arbitration", tags=["arbitration"])


@router.get("/cases", response_model=list[CasePublic],
            summary="Cases of the caller's cells (arbiters); every cell (admins)")
async def list_cases(ctx: Ctx, actor: CaseReader,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[CasePublic]:
    return [CasePublic.of(c) for c in await handlers.list_cases(ctx, actor, limit)]
