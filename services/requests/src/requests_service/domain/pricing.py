"""The price of a request and who pays it (BRIEF.md, "Access and price rules"), from the quota the
arbitration service gives it (:class:`Allowance`) and the tariff in force (:class:`Tariff`).

* The free part: at most the free volume per request of the mission and kind, and at most what is
  left of the cell's budget for the period; the rest is over quota.
* Nothing over quota: nobody pays.
* Over quota, raised to Airbus's invoicing minimum of the kind (25 km² archive, 100 km² tasking):
  - Pléiades, institutional: cost price per km² of the kind, × the mode's factor (stereo ×2,
    tristereo ×3), paid by the entity;
  - Pléiades, scientific: CNES co-funding, the entity pays the co-funding rate per km², at least the
    co-funding minimum (the larger of both minimums);
  - SPOT 6/7: drawn from the entity's prepaid package that can take it (the first to expire), else
    paid on a project budget.

Money is ``Decimal`` EUR rounded half up to the cent; areas are km² to the m².
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from requests_service.domain.quote import Allowance, Offers, Package, Payer, Quote
from requests_service.domain.rules import Tariff
from requests_service.domain.spec import RequestSpec

CENT = Decimal("0.01")
SCIENTIFIC = "scientific"
PLEIADES = "pleiades"
SPOT = "spot-6-7"


def km2(value: float) -> float:
    """An area to the m² (what the arbitration ledger counts)."""
    return round(value, 6)


def eur(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(value: float) -> str:
    return f"{value:,.6g}".replace(",", " ")


def usable_package(packages: tuple[Package, ...], mission: str, billed_km2: float, now: datetime) -> Package | None:
    """The entity's package of ``mission`` that can take ``billed_km2`` now: the first to expire."""
    fitting = [p for p in packages if p.mission == mission and p.expires_at > now and p.remaining_km2 >= billed_km2]
    return min(fitting, key=lambda p: (p.expires_at, p.package_id)) if fitting else None


def quote(spec: RequestSpec, entity_category: str, allowance: Allowance, tariff: Tariff, now: datetime,
          offers: Offers | None = None) -> Quote:
    """The quote of ``spec`` for an entity of ``entity_category`` (``scientific`` / ``institutional``)."""
    area = km2(spec.area_km2)
    free = km2(max(0.0, min(area, allowance.free_km2_per_request, max(allowance.cell_remaining_km2, 0.0))))
    over = km2(area - free)
    minimum = float(tariff.invoicing_minimum_km2.get(spec.kind, 0.0))
    per_request, left = _fmt(allowance.free_km2_per_request), _fmt(max(allowance.cell_remaining_km2, 0.0))
    quota_words = (f"{_fmt(free)} km² of {_fmt(area)} km² within the free quota ({per_request} km² per "
                   f"{spec.mission} {spec.kind} request, {left} km² left to the {allowance.cell} cell for "
                   f"{allowance.period})")
    billed, rate, package_id = 0.0, Decimal(0), None
    payer: Payer = "nobody"
    if over <= 0:
        basis = f"{quota_words}: nothing to pay"
    elif spec.mission == PLEIADES and entity_category == SCIENTIFIC:
        billed = km2(max(over, minimum, tariff.cofunding_minimum_km2))
        rate, payer = tariff.cofunding_eur_per_km2, "cnes-cofunding"
        basis = (f"{quota_words}; Pléiades for scientists, CNES co-funding: {_fmt(billed)} km² (over quota "
                 f"{_fmt(over)} km², minimum {_fmt(max(minimum, tariff.cofunding_minimum_km2))} km²) × {rate} EUR/km²")
    elif spec.mission == PLEIADES:
        factor = tariff.mode_factor.get(spec.mode, 1)
        base = tariff.pleiades_eur_per_km2[spec.kind]
        billed, rate, payer = km2(max(over, minimum)), base * factor, "entity"
        basis = (f"{quota_words}; Pléiades {spec.kind} at cost price, {spec.mode}: {_fmt(billed)} km² (over quota "
                 f"{_fmt(over)} km², invoicing minimum {_fmt(minimum)} km²) × {base} EUR/km² × {factor}")
    else:
        billed = km2(max(over, minimum))
        package = usable_package(allowance.packages, spec.mission, billed, now)
        if package is not None:
            payer, package_id = "prepaid-package", package.package_id
            basis = (f"{quota_words}; SPOT 6/7: {_fmt(billed)} km² (over quota {_fmt(over)} km², invoicing minimum "
                     f"{_fmt(minimum)} km²) drawn from prepaid package {package.package_id} "
                     f"({_fmt(package.remaining_km2)} km² left, expires {package.expires_at:%Y-%m-%d})")
        else:
            rate, payer = tariff.spot_project_eur_per_km2, "project-budget"
            funding = (f"on project budget {spec.funding_reference}" if spec.funding_reference else
                       "on a project budget: give its funding_reference with the request")
            basis = (f"{quota_words}; SPOT 6/7 without a prepaid package that can take it, paid {funding}: "
                     f"{_fmt(billed)} km² (over quota {_fmt(over)} km², invoicing minimum {_fmt(minimum)} km²) "
                     f"× {rate} EUR/km²")
    price: Decimal = eur(Decimal(str(billed)) * rate)
    return Quote(area_km2=area, free_km2=free, over_quota_km2=over, billed_km2=billed, price_eur=price, payer=payer,
                 basis=basis, invoicing_minimum_km2=minimum, cell=allowance.cell, period=allowance.period,
                 quoted_at=now, valid_until=now + timedelta(hours=tariff.quote_valid_hours), package_id=package_id,
                 offers=offers or Offers())
