"""Quoting through the use case on fakes: the allowance asked with the caller's token, the entity's
category as this service knows it, the tariff in force, eligibility checked before anything else."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from requests_service.domain.access import Actor
from requests_service.domain.errors import NotEligible
from requests_service.domain.quote import Allowance, Package
from requests_service.domain.rules import Tariff
from requests_service.domain.spec import RequestSpec, Tasking
from requests_service.service_layer import quotes

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SQUARE = {"type": "Polygon", "coordinates": [[[2, 48], [2.1, 48], [2.1, 48.1], [2, 48.1], [2, 48]]]}
ACTOR = Actor("u-1", "ent-1", frozenset({"user"}))


class FakeAllowances:
    def __init__(self, allowance: Allowance, delay: float = 0.0) -> None:
        self.given, self.delay, self.asked = allowance, delay, []

    async def allowance(self, token: str, mission: str, kind: str, category: str) -> Allowance:
        self.asked.append((token, mission, kind, category))
        await asyncio.sleep(self.delay)
        return self.given


def tasking(mission: str, area: float, mode: str = "stereo") -> RequestSpec:
    t = Tasking(NOW + timedelta(days=3), NOW + timedelta(days=20), 20, 30, mode)  # type: ignore[arg-type]
    return RequestSpec(kind="tasking", title="t", mission=mission, justification="j", aoi=SQUARE, area_km2=area,
                       tasking=t)


async def test_a_scientist_pays_cnes_cofunding_on_what_is_over_the_quota(ctx):
    fake = FakeAllowances(Allowance("pleiades-science", "2026-Q1", 250, 10_000))
    ctx = dataclasses.replace(ctx, allowances=fake, clock=lambda: NOW)
    q = await quotes.make_quote(ctx, tasking("pleiades", 400), ACTOR, "tok")
    assert fake.asked == [("tok", "pleiades", "tasking", "scientific")]
    assert (q.payer, q.free_km2, q.over_quota_km2, q.billed_km2, q.price_eur) == (
        "cnes-cofunding", 250, 150, 150, Decimal("150.00"))
    assert (q.cell, q.period, q.valid_until) == ("pleiades-science", "2026-Q1", NOW + timedelta(hours=72))


async def test_the_entitys_kind_here_decides_the_price_and_the_tariff_in_force_is_used(ctx, entities):
    entities.rows["ent-1"] = dataclasses.replace(entities.rows["ent-1"], kind="institutional", version=4)
    tariff = Tariff(pleiades_eur_per_km2={"archive": Decimal("4"), "tasking": Decimal("6")})
    ctx = dataclasses.replace(ctx, allowances=FakeAllowances(Allowance("institutional", "2026-Q1", 250, 10_000)),
                              clock=lambda: NOW, tariff=lambda day: tariff)
    q = await quotes.make_quote(ctx, tasking("pleiades", 400), ACTOR, "tok")
    assert (q.payer, q.billed_km2, q.price_eur) == ("entity", 150, Decimal("1800.00"))  # 150 × 6 × 2 (stereo)


async def test_a_spot_request_draws_the_entitys_package(ctx):
    pkg = Package("pkg-1", "spot-6-7", 5000, NOW + timedelta(days=30))
    ctx = dataclasses.replace(ctx, allowances=FakeAllowances(Allowance("spot-science", "2026", 2000, 1e6, (pkg,))),
                              clock=lambda: NOW)
    q = await quotes.make_quote(ctx, tasking("spot-6-7", 3000), ACTOR, "tok")
    assert (q.payer, q.package_id, q.billed_km2, q.price_eur) == ("prepaid-package", "pkg-1", 1000, Decimal("0.00"))


async def test_a_quote_is_refused_to_who_may_not_submit_before_anything_is_asked(ctx):
    fake = FakeAllowances(Allowance("x", "2026", 0, 0))
    ctx = dataclasses.replace(ctx, allowances=fake)
    body = {"kind": "tasking", "mission": "pleiades", "title": "t"}
    with pytest.raises(NotEligible, match="not attached to a subscribed entity"):
        await quotes.quote_body(ctx, body, Actor("u-2", None, frozenset({"user"})), "tok")
    with pytest.raises(NotEligible, match="not a subscribed DINAMIS member"):
        await quotes.quote_body(ctx, body, Actor("u-3", "ent-9", frozenset({"user"})), "tok")
    assert fake.asked == []
