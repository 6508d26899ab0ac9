"""Use cases of the catalogue besides STAC search (which the index answers itself): acquisitions
in progress, learnt from the orders."""

from __future__ import annotations

from catalogue_service.domain.acquisitions import Acquisition
from catalogue_service.service_layer.context import Catalogue


async def order_recorded(ctx: Catalogue, acquisition: Acquisition) -> bool:
    """An image is coming; a redelivered order changes nothing (``False``)."""
    return await ctx.acquisitions.record(acquisition)


async def recent_acquisitions(ctx: Catalogue, limit: int) -> list[Acquisition]:
    return await ctx.acquisitions.recent(limit)
