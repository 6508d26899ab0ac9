"""``/api/arbitration/cases``: the cases of the caller's cells, their decisions, and where a request
in review stands in its cell's queue (for its requester's entity too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from arbitration_service.entrypoints.api.schemas import CasePublic, DecisionCreate, PlacePublic
from arbitration_service.entrypoints.deps import Caller, CaseReader, Ctx, Decider
from arbitration_service.service_layer import decisions, handlers

router = APIRouter(prefix="/api/arbitration", tags=["arbitration"])
CaseId = Annotated[str, Path(min_length=1, max_length=128)]


@router.get("/cases", response_model=list[CasePublic],
            summary="Cases of the caller's cells (arbiters); every cell (admins)")
async def list_cases(ctx: Ctx, actor: CaseReader,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[CasePublic]:
    return [CasePublic.of(c) for c in await handlers.list_cases(ctx, actor, limit)]


@router.get("/cases/{case_id}", response_model=CasePublic,
            summary="One case with its decisions and history (arbiters of its cell, admins)")
async def get_case(ctx: Ctx, actor: CaseReader, case_id: CaseId) -> CasePublic:
    return CasePublic.of(await handlers.visible_case(ctx, actor, case_id))


@router.post("/cases/{case_id}/decisions", response_model=CasePublic, status_code=201,
             summary="Record a decision on a case (arbiters of its cell, admins); decisions are final; "
                     "an acceptance the cell's quota for the period cannot take is refused (409, saying what is left)")
async def decide(ctx: Ctx, actor: Decider, case_id: CaseId, body: DecisionCreate) -> CasePublic:
    case = await decisions.decide(ctx, actor, decisions.Decide(case_id, body.decision, body.reason,
                                                               body.accepted_area_km2))
    return CasePublic.of(case)


@router.get("/cases/{case_id}/place", response_model=PlacePublic,
            summary="Where a request in review stands in its cell's queue: position and expected decision date, "
                    "as the cell's queue shows them (members of the requester's entity, the cell's arbiters, "
                    "operators, admins; 404 for anyone else or a request not in review). The case id is the "
                    "request id")
async def place(ctx: Ctx, actor: Caller, case_id: CaseId) -> PlacePublic:
    return PlacePublic.of(await handlers.queue_place(ctx, actor, case_id))
