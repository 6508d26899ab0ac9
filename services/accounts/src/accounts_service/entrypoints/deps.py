"""What the routers take from a request: the use cases' context (the one place that reads what
``bootstrap`` gave the app), the caller as an actor mapped from the token's raw claims, and where
a call came from (the gateway appends the address it saw to ``X-Forwarded-For``)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.http import CurrentPrincipal
from dinamis_common.messaging.outbox import AggregateStore
from fastapi import Depends, Request

from accounts_service.domain.access import Actor
from accounts_service.service_layer.context import Accounts
from accounts_service.service_layer.subscriptions import Origin


def context(request: Request) -> Accounts:
    return request.app.state.context


def entity_activity(request: Request) -> AggregateStore:
    return request.app.state.activity


async def actor(principal: CurrentPrincipal) -> Actor:
    claims = principal.claims
    username = str(claims.get("preferred_username") or principal.subject)
    entity_id = claims.get("entity_id")
    return Actor(principal.subject, username, str(entity_id) if entity_id else None, principal.roles,
                 str(claims.get("email") or ""))


def origin(request: Request) -> Origin:
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    address = forwarded[-1] if forwarded else (request.client.host if request.client else "unknown")
    return Origin(address, request.headers.get("user-agent", ""))


Ctx = Annotated[Accounts, Depends(context)]
EntityActivity = Annotated[AggregateStore, Depends(entity_activity)]
CurrentActor = Annotated[Actor, Depends(actor)]
CallOrigin = Annotated[Origin, Depends(origin)]
