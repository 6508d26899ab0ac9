"""What the routers take from a request: the use cases' context, the caller as an actor, and
where a call came from (the gateway appends the address it saw to ``X-Forwarded-For``)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.http import CurrentPrincipal
from fastapi import Depends, Request

from accounts_service.domain.access import Actor
from accounts_service.service_layer.context import Accounts
from accounts_service.service_layer.subscriptions import Origin


def context(request: Request) -> Accounts:
    return request.app.state.accounts


async def actor(principal: CurrentPrincipal) -> Actor:
    username = str(principal.claims.get("preferred_username") or principal.subject)
    return Actor(principal.subject, username, principal.entity_id, principal.roles,
                 str(principal.claims.get("email") or ""))


def origin(request: Request) -> Origin:
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    address = forwarded[-1] if forwarded else (request.client.host if request.client else "unknown")
    return Origin(address, request.headers.get("user-agent", ""))


Ctx = Annotated[Accounts, Depends(context)]
CurrentActor = Annotated[Actor, Depends(actor)]
CallOrigin = Annotated[Origin, Depends(origin)]
