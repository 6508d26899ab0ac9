"""Quoting a request: what part of it is free, what the rest costs and who pays, and the imagery or
pending taskings it could reuse instead. ``POST /api/requests/quotes`` answers it; a submission
freezes it in the request (``handlers.submit``).

The quota facts come from the arbitration service (``ctx.allowances``, with the caller's token) and
the offers from the catalogue and the pending-tasking index (``offers.find_offers``): both are asked
at once. The tariff is the one in force today; the category is the entity's kind as this service
knows it (the accounts events), not the token's claim, which may be stale."""

from __future__ import annotations

import asyncio
from typing import Any

from requests_service.domain.access import Actor
from requests_service.domain.entities import may_submit
from requests_service.domain.pricing import quote
from requests_service.domain.quote import Allowance, Quote
from requests_service.domain.spec import RequestSpec
from requests_service.service_layer import offers
from requests_service.service_layer.context import Requests
from requests_service.service_layer.specs import build_spec


async def allowance(ctx: Requests, spec: RequestSpec, token: str, category: str) -> Allowance:
    if ctx.allowances is None:  # not wired (a unit test that does not price): nothing is free, no package
        return Allowance(cell="", period="", free_km2_per_request=0.0, cell_remaining_km2=0.0)
    return await ctx.allowances.allowance(token, spec.mission, spec.kind, category)


async def make_quote(ctx: Requests, spec: RequestSpec, actor: Actor, token: str, category: str | None = None) -> Quote:
    """The quote of ``spec`` for the caller's entity (which may submit it: checked by the caller, who
    gives its ``category`` when it has read the entity already)."""
    if category is None:
        entity = await ctx.entities.get(actor.entity_id) if actor.entity_id else None
        category = entity.kind if entity else "institutional"
    found, offered = await asyncio.gather(allowance(ctx, spec, token, category), offers.find_offers(ctx, spec))
    now = ctx.clock()
    return quote(spec, category, found, ctx.tariff(now.date()), now, offered)


async def quote_body(ctx: Requests, body: dict[str, Any], actor: Actor, token: str) -> Quote:
    """``POST /api/requests/quotes``: the same checks as a submission (eligibility, then the body), nothing stored."""
    entity = await ctx.entities.get(actor.entity_id) if actor.entity_id else None
    may_submit(entity, actor.entity_id, body.get("mission", ""))
    assert entity is not None  # may_submit refuses an unknown entity
    return await make_quote(ctx, await build_spec(ctx, body), actor, token, entity.kind)
