"""``/api/accounts/me``: the caller — what their token says, their account record, enrolment after a
federation sign-in, the THEIA / GEOSUD links Keycloak now reports; and an entity's activity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from accounts_service.domain.access import may_see_entity
from accounts_service.entrypoints.deps import Ctx, CurrentActor, CurrentClaims, EntityActivity
from accounts_service.entrypoints.schemas import UserPublic
from accounts_service.service_layer import members

router = APIRouter(prefix="/api/accounts", tags=["me"])


class TokenPublic(BaseModel):
    user_id: str
    entity_id: str | None
    entity_category: str | None
    roles: list[str]
    cells: list[str]


@router.get("/me", response_model=TokenPublic, summary="Who the token says the caller is (authenticated)")
async def me(token: CurrentClaims) -> TokenPublic:
    return TokenPublic(user_id=token.subject, entity_id=token.entity_id, entity_category=token.entity_category,
                       roles=sorted(token.roles), cells=sorted(token.cells))


@router.get("/me/account", response_model=UserPublic, summary="The caller's account record (authenticated)")
async def account(ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.me(ctx, actor))


@router.post("/me/enrolment", response_model=UserPublic,
             summary="After a first sign-in through an organisation federation: join the approved entity it "
                     "names (authenticated; idempotent)")
async def enrol(ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.enrol_from_federation(ctx, actor))


@router.post("/me/linked-identities/refresh", response_model=UserPublic,
             summary="Record the THEIA / GEOSUD accounts the caller linked in Keycloak (authenticated)")
async def refresh_links(ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.refresh_linked_identities(ctx, actor))


class ActivityPublic(BaseModel):
    entity_id: str
    requests_submitted: int
    area_km2_requested: float


@router.get("/entities/{entity_id}/activity", response_model=ActivityPublic,
            summary="Requests an entity submitted (members of that entity; admins)")
async def entity_activity(entity_id: Annotated[str, Path(max_length=64)], actor: CurrentActor,
                          activity: EntityActivity) -> ActivityPublic:
    may_see_entity(actor, entity_id)
    doc = await activity.get(entity_id)
    return ActivityPublic(entity_id=entity_id, requests_submitted=doc["requests_submitted"] if doc else 0,
                          area_km2_requested=doc["area_km2_requested"] if doc else 0.0)
