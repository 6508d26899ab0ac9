"""Use cases of the arbitration service: a case per submitted request, and the cases a caller
may read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arbitration_service.domain.access import Actor
from arbitration_service.domain.model import Case
from arbitration_service.service_layer.context import Arbitration


@dataclass(frozen=True)
class OpenCase:
    request_id: str
    mission: str
    area_km2: float
    requester: dict[str, Any]


async def open_case(ctx: Arbitration, cmd: OpenCase) -> bool:
    """One case per request, whatever the number of deliveries: the case id is the request id.
    Returns ``False`` when the request had its case already."""
    case = Case.open(request_id=cmd.request_id, mission=cmd.mission, area_km2=cmd.area_km2,
                     requester=cmd.requester, at=ctx.clock(), rule=ctx.rule)
    return await ctx.cases.add(case)


async def list_cases(ctx: Arbitration, actor: Actor, limit: int) -> list[Case]:
    return await ctx.cases.list(actor.visible_cells(), limit)
