"""What the routers take from a request: the use cases' context, the caller as an actor (mapped
here from the token's raw claims: ``entity_id`` names the subscribed entity, ``cells`` the cells an
arbiter sits in) and the caller's own bearer token, verified, to forward to the services asked on
their behalf (arbitration's quota and queue)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import bearer_token
from dinamis_common.http import CurrentPrincipal
from fastapi import Depends, Request

from requests_service.domain.access import Actor
from requests_service.service_layer.context import Requests


async def context(request: Request) -> Requests:
    return request.app.state.context


async def actor(principal: CurrentPrincipal) -> Actor:
    entity_id = principal.claims.get("entity_id")
    cells = principal.claims.get("cells")
    return Actor(principal.subject, str(entity_id) if entity_id else None, principal.roles,
                 frozenset(str(c) for c in cells) if isinstance(cells, list) else frozenset())


async def token(request: Request, _: CurrentPrincipal) -> str:
    """The caller's raw token, once the runtime verified it."""
    return bearer_token(request.headers.get("authorization"))


Ctx = Annotated[Requests, Depends(context)]
CurrentActor = Annotated[Actor, Depends(actor)]
BearerToken = Annotated[str, Depends(token)]
