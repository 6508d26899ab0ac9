"""Quoting a request (slice H2 writes the real body: the allowance from arbitration, the offers,
the tariff in force, the price). Until then: a placeholder quote that prices nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from requests_service.domain.access import Actor
from requests_service.domain.quote import Quote
from requests_service.domain.spec import RequestSpec
from requests_service.service_layer.context import Requests


async def make_quote(ctx: Requests, spec: RequestSpec, actor: Actor, token: str) -> Quote:
    now = ctx.clock()
    tariff = ctx.tariff(now.date())
    return Quote(area_km2=spec.area_km2, free_km2=0.0, over_quota_km2=0.0, billed_km2=0.0, price_eur=Decimal("0.00"),
                 payer="nobody", basis="not priced yet (placeholder)", invoicing_minimum_km2=0.0, cell="", period="",
                 quoted_at=now, valid_until=now + timedelta(hours=tariff.quote_valid_hours))
