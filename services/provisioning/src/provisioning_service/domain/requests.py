"""What an order needs to know of its request (learnt from the requests events): what is asked, where,
and the quote frozen at submission; the Airbus order body made of it, and the price check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

AIRBUS_MISSIONS = {"pleiades": "PLEIADES", "spot-6-7": "SPOT"}


@dataclass(frozen=True)
class Scene:
    item_id: str
    aoi: dict[str, Any]
    area_km2: float


@dataclass(frozen=True)
class Tasking:
    window_start: datetime
    window_end: datetime
    max_cloud_cover: float
    max_incidence_angle: float
    mode: str
    priority: str


@dataclass(frozen=True)
class Quote:
    area_km2: float
    billed_km2: float
    price_eur: Decimal
    payer: str
    invoicing_minimum_km2: float


@dataclass(frozen=True)
class RequestDetails:
    request_id: str
    kind: str  # archive | tasking
    mission: str
    aoi: dict[str, Any]
    area_km2: float
    scenes: tuple[Scene, ...] = ()
    tasking: Tasking | None = None
    quote: Quote | None = None

    def feasibility_body(self) -> dict[str, Any]:
        t = self._tasking()
        return {"mission": self._airbus_mission(), "aoi": self.aoi,
                "window": {"start": _iso(t.window_start), "end": _iso(t.window_end)},
                "max_cloud_cover": t.max_cloud_cover, "max_incidence_angle": t.max_incidence_angle, "mode": t.mode,
                "priority": t.priority}

    def order_body(self, feasibility_id: str | None = None) -> dict[str, Any]:
        """The Airbus order (docs/airbus-api.md "Orders"); the request id is the customer reference. Raises
        ``ValueError`` saying why when the request cannot be ordered as it is."""
        body: dict[str, Any] = {"customer_reference": self.request_id, "kind": self.kind,
                                "mission": self._airbus_mission()}
        if self.kind == "archive":
            if not 1 <= len(self.scenes) <= 5:
                raise ValueError(f"request {self.request_id}: an archive order takes 1 to 5 scenes, "
                                 f"not {len(self.scenes)}")
            body["items"] = [{"scene_id": s.item_id, "aoi": s.aoi} for s in self.scenes]
        else:
            body.update({k: v for k, v in self.feasibility_body().items() if k != "mission"})
            body["feasibility_id"] = feasibility_id
        return body

    def _airbus_mission(self) -> str:
        if self.mission not in AIRBUS_MISSIONS:
            raise ValueError(f"request {self.request_id}: Airbus does not sell mission {self.mission!r}")
        return AIRBUS_MISSIONS[self.mission]

    def _tasking(self) -> Tasking:
        if self.tasking is None:
            raise ValueError(f"request {self.request_id} is a tasking without its parameters")
        return self.tasking


def price_mismatch(quote: Quote | None, *, price_eur: Decimal, invoiced_km2: float, tolerance: float) -> str | None:
    """Why Airbus's price does not match the frozen quote (``None`` when it does). Airbus must not invoice
    more km² than the quote counted (the request's area raised to the invoicing minimum, or what it
    billed), and, where the requester pays the cost price, not more than the quote's price for the km²
    it billed; both within ``tolerance`` (a share, 0.05 = 5 %)."""
    if quote is None:
        return "the request has no frozen quote to check Airbus's price against"
    expected_km2 = max(quote.area_km2, quote.invoicing_minimum_km2, quote.billed_km2)
    if invoiced_km2 > expected_km2 * (1 + tolerance):
        return (f"Airbus invoices {invoiced_km2:g} km², the quote counted {expected_km2:g} km² "
                f"(tolerance {tolerance:.0%})")
    if quote.payer == "entity" and quote.billed_km2 > 0 and invoiced_km2 > 0:
        cost = price_eur / Decimal(str(invoiced_km2)) * Decimal(str(quote.billed_km2))
        if cost > quote.price_eur * (1 + Decimal(str(tolerance))):
            return (f"Airbus's price for the {quote.billed_km2:g} km² billed is {cost:.2f} EUR, the quote said "
                    f"{quote.price_eur} EUR (tolerance {tolerance:.0%})")
    return None


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")
