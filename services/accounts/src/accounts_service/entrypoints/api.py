"""``/api/accounts``: the skeleton knows only the caller (entities, users and roles come with Keycloak)."""

from __future__ import annotations

from dinamis_common.http import CurrentPrincipal
from fastapi import APIRouter
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
