"""What the routers take from a request: the use cases' context and the caller as an actor
(mapped here from the token's raw claims: ``entity_id`` names the subscribed entity)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.http import CurrentPrincipal
from fastapi import Depends, Request

from requests_service.domain.access import Actor
from requests_service.service_layer.context import Requests


async def context(request: Request) -> Requests:
    return request.app.state.context


async def actor(principal: CurrentPrincipal) -> Actor:
    entity_id = principal.claims.get("entity_id")
    return Actor(principal.subject, str(entity_id) if entity_id else None, principal.roles)


Ctx = Annotated[Requests, Depends(context)]
CurrentActor = Annotated[Actor, Depends(actor)]
