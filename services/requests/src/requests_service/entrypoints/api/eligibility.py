"""``/api/requests/eligibility``: which missions the caller may request now, and why not (what the
portal shows before a form). Included before the requests router, whose ``/{request_id}`` would
take the path otherwise."""

from __future__ import annotations

from fastapi import APIRouter

from requests_service.entrypoints.api.schemas import EligibilityPublic, MissionEligibility
from requests_service.entrypoints.deps import Ctx, CurrentActor
from requests_service.service_layer import handlers

router = APIRouter(prefix="/api/requests", tags=["requests"])


@router.get("/eligibility", response_model=EligibilityPublic,
            summary="Which missions the caller may request now, and why not (authenticated)")
async def my_eligibility(ctx: Ctx, actor: CurrentActor) -> EligibilityPublic:
    reasons = await handlers.eligibility_of(ctx, actor)
    return EligibilityPublic(entity_id=actor.entity_id, missions=[
        MissionEligibility(mission=m, eligible=r is None, reason=r) for m, r in reasons.items()])
