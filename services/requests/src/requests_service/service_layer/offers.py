"""Overlap offers at quote and at intake: delivered imagery that already covers the area within the
request's constraints (free to reuse), and pending tasking requests overlapping it in space and time
(to join rather than task the same place again). Both searches run at once; the quote's own lookups
(``service_layer.quotes``) run beside them.

Delivered imagery is searched in the mission's delivered collection of the catalogue (its STAC API:
never its database): for a tasking, acquired within ``IntakeRules.offers_delivered_recency_days``
before its window starts, no cloudier and no steeper than it allows; for an archive request, any
image over its scenes. Pending taskings come from this service's own projection of its events
(``adapters.tasking_index``), for tasking requests only. A dependency that does not answer fails the
quote (503 with Retry-After), so a request is never stored with offers half looked up.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol

from requests_service.domain import offers as rank
from requests_service.domain.quote import DeliveredOffer, JoinOffer, Offers
from requests_service.domain.rules import IntakeRules
from requests_service.domain.spec import RequestSpec
from requests_service.service_layer.context import Requests
from requests_service.service_layer.ports import PendingTasking

CANDIDATES = 5  # delivered items asked of the catalogue per offer kept (the catalogue cannot rank by coverage)
MAX_CANDIDATES = 200


async def find_offers(ctx: Requests, spec: RequestSpec, exclude: str | None = None) -> Offers:
    """The offers for ``spec``; ``exclude``: a request never offered (the request itself, at intake)."""
    rules = ctx.rules(ctx.clock().date())
    delivered, join = await asyncio.gather(_delivered(ctx, spec, rules), _join(ctx, spec, rules, exclude))
    return Offers(delivered=delivered, join=join)


async def _delivered(ctx: Requests, spec: RequestSpec, rules: IntakeRules) -> tuple[DeliveredOffer, ...]:
    collection = rank.DELIVERED_COLLECTION.get(spec.mission)
    if ctx.catalogue is None or collection is None or rules.offers_delivered_max <= 0:
        return ()
    t = spec.tasking
    start = t.window_start - timedelta(days=rules.offers_delivered_recency_days) if t else None
    end = t.window_start if t else None
    cloud = t.max_cloud_cover if t else None
    incidence = t.max_incidence_angle if t else None
    limit = min(MAX_CANDIDATES, rules.offers_delivered_max * CANDIDATES)
    items = await ctx.catalogue.delivered_covering(spec.mission, rank.search_area(spec.aoi), start, end,
                                                   cloud, incidence, limit)
    return rank.delivered_offers(spec.aoi, items, rules.offers_delivered_max, start=start, end=end,
                                 max_cloud_cover=cloud, max_incidence_angle=incidence)


async def _join(ctx: Requests, spec: RequestSpec, rules: IntakeRules, exclude: str | None
                ) -> tuple[JoinOffer, ...]:
    t = spec.tasking
    if ctx.tasking_index is None or spec.kind != "tasking" or t is None or rules.offers_join_max <= 0:
        return ()
    pending = await ctx.tasking_index.overlapping(spec.mission, spec.aoi, t.window_start, t.window_end,
                                                  rules.offers_join_max + 1)
    return rank.join_offers(spec.aoi, t.window_start, t.window_end, pending, rules.offers_join_max, exclude)


class PendingTaskings(Protocol):
    """The writing side of the pending-tasking projection (its reading side: ``ports.TaskingIndex``)."""

    async def add(self, pending: PendingTasking) -> bool:
        """Index it (again: no change); ``False`` if it was removed already (a removal wins)."""

    async def remove(self, request_id: str, at: datetime) -> None: ...


async def tasking_submitted(index: PendingTaskings, pending: PendingTasking) -> bool:
    return await index.add(pending)


async def status_changed(index: PendingTaskings, request_id: str, status: str, at: datetime) -> bool:
    """A request left the pending set (``domain.offers.NOT_PENDING``): nobody may join it any more."""
    if status not in rank.NOT_PENDING:
        return False
    await index.remove(request_id, at)
    return True
