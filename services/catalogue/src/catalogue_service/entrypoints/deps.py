"""What the routers take from a request: the catalogue's context (the STAC index, the
acquisitions) and, where a token is needed, the caller as an actor mapped from its raw claims."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Principal
from dinamis_common.http import require_roles
from fastapi import Depends, Request

from catalogue_service.domain.access import ACQUISITION_READERS, Actor
from catalogue_service.domain.limits import SearchLimits
from catalogue_service.service_layer.context import Catalogue
from catalogue_service.service_layer.ports import StacIndex


async def context(request: Request) -> Catalogue:
    return request.app.state.context


async def stac_index(request: Request) -> StacIndex:
    return (await context(request)).stac


async def search_limits(request: Request) -> SearchLimits:
    return (await context(request)).limits


def actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.roles)


async def acquisition_reader(
        principal: Annotated[Principal, Depends(require_roles(*ACQUISITION_READERS))]) -> Actor:
    return actor(principal)


Ctx = Annotated[Catalogue, Depends(context)]
Stac = Annotated[StacIndex, Depends(stac_index)]
Limits = Annotated[SearchLimits, Depends(search_limits)]
AcquisitionReader = Annotated[Actor, Depends(acquisition_reader)]
