"""``/api/arbitration/allowances``: what the quota gives a request of a mission and kind from the
caller's entity (token claim ``entity_id``; its kind from ``category``, else the token's
``entity_category``), now: the cell that will review it, the period, the free volume per request,
what is left of the cell's budget, and the entity's prepaid packages still usable for the mission.
The requests service asks it for a quote, with the requester's token."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from arbitration_service.entrypoints.api.packages import CurrentCaller, PackagesCtx
from arbitration_service.entrypoints.deps import QuotasCtx
from arbitration_service.service_layer import packages as uc

router = APIRouter(prefix="/api/arbitration/allowances", tags=["quotas"])


class PackageAllowance(BaseModel):
    package_id: str
    mission: str
    remaining_km2: float
    expires_at: datetime


class AllowancePublic(BaseModel):
    cell: str
    period: str
    free_km2_per_request: float
    cell_remaining_km2: float
    packages: list[PackageAllowance]

    @classmethod
    def of(cls, a: uc.Allowance) -> AllowancePublic:
        return cls(cell=a.cell, period=a.period, free_km2_per_request=a.free_km2_per_request,
                   cell_remaining_km2=a.cell_remaining_km2,
                   packages=[PackageAllowance(package_id=b.package.package_id, mission=b.package.mission,
                                              remaining_km2=b.remaining_km2, expires_at=b.package.expires_at)
                             for b in a.packages])


@router.get("", response_model=AllowancePublic,
            summary="The quota a request of this mission and kind gets from the caller's entity now (authenticated)")
async def allowance(q: QuotasCtx, pk: PackagesCtx, who: CurrentCaller,
                    mission: Annotated[Literal["pleiades", "spot-6-7"], Query()],
                    kind: Annotated[Literal["archive", "tasking"], Query()],
                    category: Annotated[Literal["scientific", "institutional"] | None, Query(
                        description="the entity's kind as the requests service knows it (it routes the request); "
                                    "default: the token's entity_category")] = None) -> AllowancePublic:
    if category is not None:
        who = replace(who, entity_category=category)
    return AllowancePublic.of(await uc.allowance(q, pk, who, mission, kind))
