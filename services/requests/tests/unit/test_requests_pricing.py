"""The whole price table (BRIEF.md, "Access and price rules"): mission × category × kind × mode ×
under/over quota × invoicing and co-funding minimums × prepaid package or not; and properties that
hold for any request (a price is never negative, free + over quota = the area)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from requests_service.domain.pricing import quote
from requests_service.domain.quote import Allowance, Package
from requests_service.domain.rules import Tariff
from requests_service.domain.spec import RequestSpec, Tasking

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARIFF = Tariff()
SQUARE = {"type": "Polygon", "coordinates": [[[2, 48], [2.1, 48], [2.1, 48.1], [2, 48.1], [2, 48]]]}


def spec(mission: str, kind: str, area: float, mode: str = "mono", funding: str | None = None) -> RequestSpec:
    tasking = None
    if kind == "tasking":
        tasking = Tasking(NOW + timedelta(days=3), NOW + timedelta(days=20), 20, 30, mode)  # type: ignore[arg-type]
    return RequestSpec(kind=kind, title="t", mission=mission, justification="j", aoi=SQUARE,  # type: ignore[arg-type]
                       area_km2=area, funding_reference=funding, tasking=tasking)


def allowance(free: float = 100.0, remaining: float = 1e6, packages: tuple[Package, ...] = ()) -> Allowance:
    return Allowance(cell="cell-x", period="2026-Q1", free_km2_per_request=free, cell_remaining_km2=remaining,
                     packages=packages)


def package(remaining: float, days: float = 30, pid: str = "pkg-1", mission: str = "spot-6-7") -> Package:
    return Package(pid, mission, remaining, NOW + timedelta(days=days))


# mission, category, kind, mode, area, free per request, packages -> billed km², price EUR, payer
TABLE = [
    # within the free quota: nobody pays, whoever asks
    ("pleiades", "institutional", "archive", "mono", 80, 100, (), 0, "0.00", "nobody"),
    ("pleiades", "scientific", "tasking", "tristereo", 100, 100, (), 0, "0.00", "nobody"),
    ("spot-6-7", "institutional", "archive", "mono", 50, 100, (), 0, "0.00", "nobody"),
    ("spot-6-7", "scientific", "tasking", "stereo", 99.5, 100, (), 0, "0.00", "nobody"),
    # Pléiades, institutional: cost price by kind × mode, invoicing minimum 25 archive / 100 tasking
    ("pleiades", "institutional", "archive", "mono", 110, 100, (), 25, "101.50", "entity"),  # 10 -> minimum 25
    ("pleiades", "institutional", "archive", "mono", 200, 100, (), 100, "406.00", "entity"),
    ("pleiades", "institutional", "tasking", "mono", 150, 100, (), 100, "522.00", "entity"),  # 50 -> minimum 100
    ("pleiades", "institutional", "tasking", "mono", 400, 100, (), 300, "1566.00", "entity"),
    ("pleiades", "institutional", "tasking", "stereo", 400, 100, (), 300, "3132.00", "entity"),
    ("pleiades", "institutional", "tasking", "tristereo", 400, 100, (), 300, "4698.00", "entity"),
    ("pleiades", "institutional", "tasking", "tristereo", 120, 100, (), 100, "1566.00", "entity"),
    # Pléiades, scientific: CNES co-funding 1 EUR/km², 100 km² minimum (whichever minimum is larger)
    ("pleiades", "scientific", "archive", "mono", 110, 100, (), 100, "100.00", "cnes-cofunding"),
    ("pleiades", "scientific", "archive", "mono", 350.25, 100, (), 250.25, "250.25", "cnes-cofunding"),
    ("pleiades", "scientific", "tasking", "stereo", 130, 100, (), 100, "100.00", "cnes-cofunding"),
    ("pleiades", "scientific", "tasking", "tristereo", 1100, 100, (), 1000, "1000.00", "cnes-cofunding"),
    # SPOT 6/7 without a package: on a project budget, 0.50 EUR/km², invoicing minimums
    ("spot-6-7", "institutional", "archive", "mono", 110, 100, (), 25, "12.50", "project-budget"),
    ("spot-6-7", "scientific", "archive", "mono", 300, 100, (), 200, "100.00", "project-budget"),
    ("spot-6-7", "institutional", "tasking", "mono", 130, 100, (), 100, "50.00", "project-budget"),
    ("spot-6-7", "scientific", "tasking", "tristereo", 1333.33, 100, (), 1233.33, "616.67", "project-budget"),
    # SPOT 6/7 with a package that can take the billed km² (drawn, nothing to pay) …
    ("spot-6-7", "institutional", "archive", "mono", 110, 100, (package(25),), 25, "0.00", "prepaid-package"),
    ("spot-6-7", "scientific", "tasking", "stereo", 300, 100, (package(1000),), 200, "0.00", "prepaid-package"),
    # … or not: too small (the minimum counts), expired, or for another mission
    ("spot-6-7", "institutional", "archive", "mono", 110, 100, (package(24.9),), 25, "12.50", "project-budget"),
    ("spot-6-7", "institutional", "tasking", "mono", 300, 100, (package(1000, days=-1),), 200, "100.00",
     "project-budget"),
    ("spot-6-7", "scientific", "archive", "mono", 300, 100, (package(1000, mission="pleiades"),), 200, "100.00",
     "project-budget"),
    # Pléiades never draws a SPOT package
    ("pleiades", "institutional", "archive", "mono", 200, 100, (package(1000),), 100, "406.00", "entity"),
]


@pytest.mark.parametrize(("mission", "category", "kind", "mode", "area", "free", "packages", "billed", "price",
                          "payer"), TABLE)
def test_price_table(mission, category, kind, mode, area, free, packages, billed, price, payer):
    q = quote(spec(mission, kind, area, mode), category, allowance(free, packages=packages), TARIFF, NOW)
    assert (q.billed_km2, q.price_eur, q.payer) == (pytest.approx(billed), Decimal(price), payer)
    assert q.free_km2 == pytest.approx(min(area, free))
    assert q.over_quota_km2 == pytest.approx(max(0, area - free))
    assert q.invoicing_minimum_km2 == {"archive": 25, "tasking": 100}[kind]
    assert (q.package_id is not None) == (payer == "prepaid-package")


def test_the_cell_running_out_of_budget_makes_the_rest_over_quota():
    q = quote(spec("pleiades", "archive", 300), "institutional",
              allowance(free=500, remaining=120), TARIFF, NOW)
    assert (q.free_km2, q.over_quota_km2, q.billed_km2, q.price_eur) == (120, 180, 180, Decimal("730.80"))
    assert "120 km² left to the cell-x cell" in q.basis


def test_an_overdrawn_cell_gives_nothing_free():
    q = quote(spec("spot-6-7", "archive", 40), "institutional", allowance(remaining=-5), TARIFF, NOW)
    assert (q.free_km2, q.over_quota_km2, q.price_eur) == (0, 40, Decimal("20.00"))


def test_the_package_first_to_expire_is_drawn():
    packages = (package(500, days=60, pid="late"), package(500, days=10, pid="soon"), package(10, days=1, pid="small"))
    q = quote(spec("spot-6-7", "tasking", 300), "institutional", allowance(packages=packages), TARIFF, NOW)
    assert (q.payer, q.package_id) == ("prepaid-package", "soon")
    assert "prepaid package soon" in q.basis


def test_a_project_budget_without_funding_reference_says_one_is_expected():
    without = quote(spec("spot-6-7", "archive", 300), "institutional", allowance(), TARIFF, NOW)
    given_ = quote(spec("spot-6-7", "archive", 300, funding="ANR-22-CE01"), "institutional", allowance(), TARIFF, NOW)
    assert "give its funding_reference" in without.basis
    assert "on project budget ANR-22-CE01" in given_.basis


def test_the_quote_is_valid_for_the_tariffs_hours_and_says_its_cell_and_period():
    tariff = Tariff(quote_valid_hours=24)
    q = quote(spec("pleiades", "tasking", 10), "scientific", allowance(), tariff, NOW)
    assert (q.quoted_at, q.valid_until, q.cell, q.period) == (NOW, NOW + timedelta(hours=24), "cell-x", "2026-Q1")


def test_prices_are_rounded_half_up_to_the_cent():
    tariff = Tariff(spot_project_eur_per_km2=Decimal("0.125"))
    q = quote(spec("spot-6-7", "archive", 100.1), "institutional", allowance(free=0), tariff, NOW)
    assert q.price_eur == Decimal("12.51")  # 100.1 × 0.125 = 12.5125


def test_another_tariff_in_force_changes_the_price():
    tariff = Tariff(pleiades_eur_per_km2={"archive": Decimal("5"), "tasking": Decimal("7")},
                    invoicing_minimum_km2={"archive": 50, "tasking": 200})
    q = quote(spec("pleiades", "archive", 110), "institutional", allowance(), tariff, NOW)
    assert (q.billed_km2, q.price_eur, q.invoicing_minimum_km2) == (50, Decimal("250.00"), 50)


areas = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(mission=st.sampled_from(["pleiades", "spot-6-7"]), category=st.sampled_from(["scientific", "institutional"]),
       kind=st.sampled_from(["archive", "tasking"]), mode=st.sampled_from(["mono", "stereo", "tristereo"]),
       area=areas, free=areas, remaining=st.floats(min_value=-1e6, max_value=1e7, allow_nan=False),
       package_km2=st.none() | areas)
def test_a_price_is_never_negative_and_free_plus_over_is_the_area(mission, category, kind, mode, area, free,
                                                                   remaining, package_km2):
    packages = () if package_km2 is None else (package(package_km2),)
    q = quote(spec(mission, kind, area, mode), category, allowance(free, remaining, packages), TARIFF, NOW)
    assert q.price_eur >= 0 and q.free_km2 >= 0 and q.over_quota_km2 >= 0
    assert math.isclose(q.free_km2 + q.over_quota_km2, q.area_km2, abs_tol=1e-6)
    assert q.free_km2 <= min(free, max(remaining, 0)) + 1e-6
    assert (q.billed_km2 == 0) == (q.over_quota_km2 == 0) == (q.payer == "nobody")
    assert q.billed_km2 >= q.over_quota_km2
    assert q.price_eur == q.price_eur.quantize(Decimal("0.01"))
