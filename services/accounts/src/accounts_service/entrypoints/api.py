"""``/api/accounts``: the skeleton knows only the caller (entities, users and roles come with Keycloak)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Forbidden
from dinamis_common.http import CurrentPrincipal
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


class MePublic(BaseModel):
    user_id: str
    entity_id: str | None
    entity_category: str | None
    roles: list[str]
    cells: list[str]


@router.get("/me", response_model=MePublic, summary="Who the token says the caller is (authenticated)")
async def me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(user_id=principal.subject, entity_id=principal.entity_id,
                    entity_category=principal.entity_category, roles=sorted(principal.roles),
                    cells=sorted(principal.cells))


class ActivityPublic(BaseModel):
    entity_id: str
    requests_submitted: int
    area_km2_requested: float


@router.get("/entities/{entity_id}/activity", response_model=ActivityPublic,
            summary="Requests an entity submitted (members of that entity; admins)")
async def entity_activity(entity_id: Annotated[str, Path(max_length=64)], principal: CurrentPrincipal,
                          request: Request) -> ActivityPublic:
    if principal.entity_id != entity_id and not principal.has_role("admin"):
        raise Forbidden("you can only see the activity of your own entity")
    doc = await request.app.state.activity.get(entity_id)
    return ActivityPublic(entity_id=entity_id, requests_submitted=doc["requests_submitted"] if doc else 0,
                          area_km2_requested=doc["area_km2_requested"] if doc else 0.0)
