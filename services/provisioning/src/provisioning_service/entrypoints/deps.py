"""What the routers take from a request: the use cases' context and the caller as an actor
(mapped here from the token's raw claims)."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import Depends, Request

from provisioning_service.domain.access import ORDER_OPERATORS, ORDER_READERS, Actor
from provisioning_service.service_layer.context import Provisioning


async def context(request: Request) -> Provisioning:
    return request.app.state.context


def actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.roles)


async def order_reader(principal: Annotated[Principal, Depends(require_roles(*ORDER_READERS))]) -> Actor:
    return actor(principal)


async def order_operator(principal: Annotated[Principal, Depends(require_roles(*ORDER_OPERATORS))]) -> Actor:
    return actor(principal)


Ctx = Annotated[Provisioning, Depends(context)]
OrderReader = Annotated[Actor, Depends(order_reader)]
OrderOperator = Annotated[Actor, Depends(order_operator)]
