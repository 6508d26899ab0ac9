"""What the routers take from a request: the use cases' context and the caller as an actor
(mapped here from the token's raw claims: ``cells`` lists the cells an arbiter sits in)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import Depends, Request

from arbitration_service.domain.access import CASE_READERS, DECIDERS, Actor
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.service_layer.quotas import Quotas


async def context(request: Request) -> Arbitration:
    return request.app.state.context


def actor(principal: Principal) -> Actor:
    cells = principal.claims.get("cells") or []
    return Actor(principal.subject, principal.roles,
                 frozenset(str(c) for c in (cells if isinstance(cells, list) else [cells])))


async def case_reader(principal: Annotated[Principal, Depends(require_roles(*CASE_READERS))]) -> Actor:
    return actor(principal)


async def decider(principal: Annotated[Principal, Depends(require_roles(*DECIDERS))]) -> Actor:
    return actor(principal)


Ctx = Annotated[Arbitration, Depends(context)]
CaseReader = Annotated[Actor, Depends(case_reader)]
Decider = Annotated[Actor, Depends(decider)]


async def quotas(request: Request) -> Quotas:
    return request.app.state.quotas


QuotasCtx = Annotated[Quotas, Depends(quotas)]
