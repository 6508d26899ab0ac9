"""Use cases of the catalogue besides STAC search (which the index answers itself): acquisitions
in progress, learnt from the orders."""

from __future__ import annotations

from typing import Any

from catalogue_service.domain.acquisitions import Acquisition
from catalogue_service.domain.deliveries import shared_item
from catalogue_service.service_layer.context import Catalogue


async def order_recorded(ctx: Catalogue, acquisition: Acquisition) -> bool:
    """An image is coming; a redelivered order changes nothing (``False``)."""
    return await ctx.acquisitions.record(acquisition)


async def recent_acquisitions(ctx: Catalogue, limit: int) -> list[Acquisition]:
    return await ctx.acquisitions.recent(limit)


async def delivery_completed(ctx: Catalogue, item: dict[str, Any], *, mission: str, collection: str,
                             request_id: str, order_id: str) -> bool:
    """The delivered product joins the shared catalogue (``True``: a new item; a redelivery replaces
    it with the same content). Raises ``InvalidDelivery`` / ``InvalidItem`` when it cannot."""
    shared = shared_item(item, mission=mission, collection=collection, request_id=request_id, order_id=order_id)
    added = await ctx.stac.upsert_item(shared)
    await ctx.acquisitions.delivered(order_id, shared["id"])
    return added
