"""``/api/arbitration/public/burndown``: each cell's quota for a period, for anyone (no token)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from arbitration_service.entrypoints.deps import QuotasCtx
from arbitration_service.service_layer import quotas

router = APIRouter(prefix="/api/arbitration/public", tags=["quotas"])


class BurndownPublic(BaseModel):
    cell: str
    period: str
    budget_km2: float
    held_km2: float
    committed_km2: float
    released_km2: float
    remaining_km2: float

    @classmethod
    def of(cls, b: quotas.Burndown) -> BurndownPublic:
        return cls(cell=b.cell, period=b.period.label, **b.balances.km2())


@router.get("/burndown", response_model=BurndownPublic,
            summary="A cell's quota burn-down for a period: budget, held, committed, released, remaining km² (anyone)")
async def burndown(
    q: QuotasCtx,
    cell: Annotated[Literal["pleiades-science", "institutional", "spot-science"], Query(description="the cell")],
    period: Annotated[str | None, Query(pattern=r"^\d{4}(-Q[1-4])?$",
                                        description="2026 (SPOT 6/7: yearly) or 2026-Q1 (Pléiades: quarterly); "
                                        "the current one by default")] = None,
) -> BurndownPublic:
    return BurndownPublic.of(await quotas.burndown(q, cell, period))
