"""``/api/arbitration/cells/{cell}/queue``: what a cell has to decide, in order, with expected dates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from arbitration_service.entrypoints.api.schemas import QueuePublic
from arbitration_service.entrypoints.deps import CaseReader, Ctx
from arbitration_service.service_layer import handlers

router = APIRouter(prefix="/api/arbitration/cells", tags=["arbitration"])


@router.get("/{cell}/queue", response_model=QueuePublic,
            summary="The cell's cases in review by priority then age, with positions and expected decision "
                    "dates (arbiters of the cell, admins)")
async def queue(ctx: Ctx, actor: CaseReader, cell: Annotated[str, Path(max_length=64)],
                limit: Annotated[int, Query(ge=1, le=500)] = 500) -> QueuePublic:
    return QueuePublic.of(await handlers.cell_queue(ctx, actor, cell, limit))
