"""A quote: what part of a request is free, what the rest costs and who pays, and the imagery or
the pending taskings it could reuse instead (overlap offers). A submitted request keeps the quote
it was submitted with (frozen). Money is ``Decimal`` EUR.

The quota facts come from the arbitration service, which owns the ledger (:class:`Allowance`); the
tariffs are this service's configuration with validity dates (``Settings.requests_tariffs``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

# who pays the part beyond the free quota
Payer = Literal[
    "nobody",  # all of it is within the free quota
    "entity",  # Pléiades, institutional: cost price
    "cnes-cofunding",  # Pléiades, scientific: CNES co-funding, the entity pays 1 EUR/km² (100 km² minimum)
    "prepaid-package",  # SPOT 6/7: drawn from the entity's prepaid package
    "project-budget",  # SPOT 6/7: paid on a project budget (``funding_reference``)
]


@dataclass(frozen=True)
class Package:
    """A prepaid volume of an entity (registered by an admin in the arbitration service)."""

    package_id: str
    mission: str
    remaining_km2: float
    expires_at: datetime


@dataclass(frozen=True)
class Allowance:
    """What the quota ledger gives a request of this mission and kind, for this entity, now."""

    cell: str
    period: str
    free_km2_per_request: float
    cell_remaining_km2: float
    packages: tuple[Package, ...] = ()


@dataclass(frozen=True)
class DeliveredOffer:
    """Imagery already delivered that covers (part of) the area within the constraints: free to reuse."""

    item_id: str
    collection: str
    acquired_at: datetime
    coverage: float  # share of the requested area it covers, 0..1
    cloud_cover: float | None = None
    incidence_angle: float | None = None


@dataclass(frozen=True)
class JoinOffer:
    """A pending tasking request that overlaps in space and time: join it rather than task again."""

    request_id: str
    overlap_km2: float
    window_start: datetime
    window_end: datetime
    mode: str


@dataclass(frozen=True)
class Offers:
    delivered: tuple[DeliveredOffer, ...] = ()
    join: tuple[JoinOffer, ...] = ()


@dataclass(frozen=True)
class Quote:
    area_km2: float
    free_km2: float
    over_quota_km2: float
    billed_km2: float  # the over-quota km² raised to the invoicing minimum (0 when nothing is paid)
    price_eur: Decimal
    payer: Payer
    basis: str  # the tariff line in words ("Pléiades tasking, stereo: 5.22 EUR/km² × 2")
    invoicing_minimum_km2: float
    cell: str
    period: str
    quoted_at: datetime
    valid_until: datetime
    package_id: str | None = None
    offers: Offers = field(default_factory=Offers)
