"""What the routers take from a request: the use cases' context (the one place that reads what
``bootstrap`` gave the app), the caller as an actor mapped from the token's raw claims, and where
a call came from (the gateway appends the address it saw to ``X-Forwarded-For``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from dinamis_common.http import CurrentPrincipal
from dinamis_common.messaging.outbox import AggregateStore
from fastapi import Depends, Request

from accounts_service.domain.access import Actor
from accounts_service.service_layer.context import Accounts
from accounts_service.service_layer.subscriptions import Origin


async def context(request: Request) -> Accounts:
    return request.app.state.context


async def entity_activity(request: Request) -> AggregateStore:
    return request.app.state.activity


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return str(value) if value else None


def _texts(claims: dict[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name) or []
    return frozenset(str(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class TokenClaims:
    """What the caller's token says in DINAMIS terms (the attributes Keycloak is kept in step with)."""

    subject: str
    entity_id: str | None
    entity_category: str | None
    roles: frozenset[str]
    cells: frozenset[str]


async def token_claims(principal: CurrentPrincipal) -> TokenClaims:
    c = principal.claims
    return TokenClaims(principal.subject, _text(c, "entity_id"), _text(c, "entity_category"), principal.roles,
                       _texts(c, "cells"))


async def actor(principal: CurrentPrincipal) -> Actor:
    """The caller, known by the token's ``sub``; the ``email`` claim is never read (editable by its owner)."""
    claims = principal.claims
    return Actor(principal.subject, _text(claims, "preferred_username") or principal.subject,
                 _text(claims, "entity_id"), principal.roles)


async def origin(request: Request) -> Origin:
    """Where the call came from: the peer's address, which the server replaced by the client's from
    ``X-Forwarded-For`` only when the peer is a trusted proxy (``FORWARDED_ALLOW_IPS``: the gateway);
    a header any other caller sends changes nothing."""
    address = request.client.host if request.client else "unknown"
    return Origin(address, request.headers.get("user-agent", ""))


Ctx = Annotated[Accounts, Depends(context)]
EntityActivity = Annotated[AggregateStore, Depends(entity_activity)]
CurrentActor = Annotated[Actor, Depends(actor)]
CurrentClaims = Annotated[TokenClaims, Depends(token_claims)]
CallOrigin = Annotated[Origin, Depends(origin)]
