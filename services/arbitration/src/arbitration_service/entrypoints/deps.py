"""What the routers take from a request: the use cases' context and the caller as an actor
(mapped here from the token's raw claims: ``cells`` lists the cells an arbiter sits in, ``entity_id``
the entity the caller is a member of)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import CurrentPrincipal, require_roles
from fastapi import Depends, Request

from arbitration_service.domain.access import CASE_READERS, DECIDERS, Actor
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.service_layer.quotas import Quotas


async def context(request: Request) -> Arbitration:
    return request.app.state.context


def actor(principal: Principal) -> Actor:
    cells = principal.claims.get("cells") or []
    entity = principal.claims.get("entity_id")
    return Actor(principal.subject, principal.roles,
                 frozenset(str(c) for c in (cells if isinstance(cells, list) else [cells])),
                 str(entity) if entity else None)


async def case_reader(principal: Annotated[Principal, Depends(require_roles(*CASE_READERS))]) -> Actor:
    return actor(principal)


async def decider(principal: Annotated[Principal, Depends(require_roles(*DECIDERS))]) -> Actor:
    return actor(principal)


async def caller(principal: CurrentPrincipal) -> Actor:
    """Anyone signed in (what they may see is the use case's to decide)."""
    return actor(principal)


Ctx = Annotated[Arbitration, Depends(context)]
Caller = Annotated[Actor, Depends(caller)]
CaseReader = Annotated[Actor, Depends(case_reader)]
Decider = Annotated[Actor, Depends(decider)]


async def quotas(request: Request) -> Quotas:
    return request.app.state.quotas


QuotasCtx = Annotated[Quotas, Depends(quotas)]
