"""``/api/accounts/entities``: reviews and suspension (administrators); an entity's record, its
certificate and its members (the entity's own members or correspondent, and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from accounts_service.domain.access import must_be_admin
from accounts_service.entrypoints.deps import Ctx, CurrentActor
from accounts_service.entrypoints.schemas import EntityPublic, ReasonCreate, ReviewCreate, UserPublic
from accounts_service.service_layer import members, subscriptions

router = APIRouter(prefix="/api/accounts/entities", tags=["entities"])
EntityId = Annotated[str, Path(max_length=64)]


@router.get("", response_model=list[EntityPublic], summary="Entities, by status (administrators)")
async def listing(ctx: Ctx, actor: CurrentActor,
                  status: Annotated[str | None, Query(max_length=32)] = None,
                  after: Annotated[str | None, Query(max_length=64)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[EntityPublic]:
    must_be_admin(actor)
    return [EntityPublic.of(e) for e in await ctx.entities.list(status, limit, after)]


@router.get("/{entity_id}", response_model=EntityPublic,
            summary="An entity's record (its members; administrators)")
async def one(entity_id: EntityId, ctx: Ctx, actor: CurrentActor) -> EntityPublic:
    return EntityPublic.of(await subscriptions.visible_entity(ctx, entity_id, actor))


@router.post("/{entity_id}/reviews", response_model=EntityPublic,
             summary="Record a DINAMIS, CNES or Airbus decision (administrators); DINAMIS' approval issues "
                     "the signed membership certificate")
async def review(entity_id: EntityId, body: ReviewCreate, ctx: Ctx, actor: CurrentActor) -> EntityPublic:
    return EntityPublic.of(await subscriptions.review(ctx, entity_id, body.reviewer, body.decision, body.reason,
                                                      actor))


@router.post("/{entity_id}/suspension", response_model=EntityPublic, summary="Suspend a member (administrators)")
async def suspend(entity_id: EntityId, body: ReasonCreate, ctx: Ctx, actor: CurrentActor) -> EntityPublic:
    return EntityPublic.of(await subscriptions.suspend(ctx, entity_id, body.reason, actor))


@router.get("/{entity_id}/certificate", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}},
            summary="The signed membership certificate, PDF (the entity's members; administrators)")
async def certificate(entity_id: EntityId, ctx: Ctx, actor: CurrentActor) -> Response:
    stored = await subscriptions.certificate(ctx, entity_id, actor)
    return Response(stored.pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="dinamis-certificate-{stored.serial}.pdf"',
        "x-content-sha256": stored.sha256})


@router.get("/{entity_id}/users", response_model=list[UserPublic],
            summary="The entity's accounts (its correspondent; administrators)")
async def users(entity_id: EntityId, ctx: Ctx, actor: CurrentActor) -> list[UserPublic]:
    return [UserPublic.of(u) for u in await members.members(ctx, entity_id, actor)]
