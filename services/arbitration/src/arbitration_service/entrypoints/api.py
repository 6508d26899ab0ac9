"""``/api/arbitration/cases``: the cases of the caller's cells."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

router = APIRouter(prefix="/api/arbitration", tags=["arbitration"])


class CasePublic(BaseModel):
    id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    status: str
    opened_at: datetime
    decision: str | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None


@router.get("/cases", response_model=list[CasePublic],
            summary="Cases of the caller's cells (arbiters); every cell (admins)")
async def list_cases(
    request: Request,
    principal: Annotated[Principal, Depends(require_roles("arbiter", "admin"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CasePublic]:
    cells = None if principal.has_role("admin") else set(principal.cells)
    cases = await request.app.state.repository.list(cells, limit)
    return [CasePublic(id=c.id, request_id=c.request_id, cell=c.cell, mission=c.mission, area_km2=c.area_km2,
                       status=c.status, opened_at=c.opened_at,
                       decision=c.decision.decision if c.decision else None,
                       reason=c.decision.reason if c.decision else None,
                       decided_by=c.decision.decided_by if c.decision else None,
                       decided_at=c.decision.decided_at if c.decision else None) for c in cases]
