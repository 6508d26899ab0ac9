"""Accounts: asked for by a person (public, with an e-mailed link), activated or deactivated by
the entity's correspondent, roles changed by an administrator (never their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from accounts_service.entrypoints.deps import Ctx, CurrentActor
from accounts_service.entrypoints.schemas import AccountRequestCreate, LinkUse, ReasonCreate, RolesUpdate, UserPublic
from accounts_service.service_layer import members

public = APIRouter(prefix="/api/accounts/public/account-requests", tags=["accounts (public)"])
router = APIRouter(prefix="/api/accounts/users", tags=["accounts"])
UserId = Annotated[str, Path(max_length=64)]


@public.post("", status_code=202, response_model=UserPublic,
             summary="Ask for an account in an approved entity (anyone); a validation link is e-mailed")
async def ask(body: AccountRequestCreate, ctx: Ctx) -> UserPublic:
    return UserPublic.of(await members.request(ctx, str(body.email), body.first_name, body.last_name, body.entity_id))


@public.post("/{user_id}/email-verification", response_model=UserPublic,
             summary="The e-mailed link validates the address (holder of the link); the correspondent is told")
async def verify(user_id: UserId, body: LinkUse, ctx: Ctx) -> UserPublic:
    return UserPublic.of(await members.verify_email(ctx, user_id, body.token))


@router.get("/{user_id}", response_model=UserPublic,
            summary="An account (its owner; the entity's correspondent; administrators)")
async def one(user_id: UserId, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.visible_user(ctx, user_id, actor))


@router.post("/{user_id}/activation", response_model=UserPublic,
             summary="Activate (the entity's correspondent; administrators); Keycloak e-mails a set-password link")
async def activate(user_id: UserId, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.activate(ctx, user_id, actor))


@router.post("/{user_id}/deactivation", response_model=UserPublic,
             summary="Deactivate (the entity's correspondent; administrators); sign-in is refused at once")
async def deactivate(user_id: UserId, body: ReasonCreate, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.deactivate(ctx, user_id, body.reason, actor))


@router.put("/{user_id}/roles", response_model=UserPublic,
            summary="Set roles and cells, with the reason (administrators, never on their own account)")
async def roles(user_id: UserId, body: RolesUpdate, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    return UserPublic.of(await members.change_roles(ctx, user_id, list(body.roles), list(body.cells), body.reason,
                                                    actor))
