"""Intake rules and tariffs: configuration with validity dates (``Settings.requests_rules`` and
``Settings.requests_tariffs``), never constants in code. Defaults: ../shared/domain/BRIEF.md (Airbus
order limits, public 2016 DSP rates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class IntakeRules:
    min_area_km2: float = 5.0  # Airbus production minimum
    min_width_km: float = 1.0
    max_vertices: int = 999
    max_area_km2: float = 1_000_000.0
    max_scenes: int = 5  # area/item pairs per Airbus order
    tasking_min_lead_days: float = 2.0  # a window starts at least this long after the submission
    tasking_min_window_days: float = 7.0  # and lasts at least this long
    tasking_max_window_days: float = 365.0
    cancel_tasking_before_window_hours: float = 48.0  # a tasking may be cancelled until this long before
    # overlap offers (quote and intake): delivered imagery to reuse, pending taskings to join
    offers_delivered_max: int = 10  # at most this many delivered items offered
    offers_delivered_recency_days: float = 365.0  # tasking: acquired at most this long before the window starts
    offers_join_max: int = 5  # at most this many pending taskings offered to join


@dataclass(frozen=True)
class Tariff:
    # Pléiades at cost price, EUR/km², by request kind; × the mode's factor (stereo, tristereo)
    pleiades_eur_per_km2: dict[str, Decimal] = field(
        default_factory=lambda: {"archive": Decimal("4.06"), "tasking": Decimal("5.22")})
    mode_factor: dict[str, int] = field(default_factory=lambda: {"mono": 1, "stereo": 2, "tristereo": 3})
    # Pléiades for scientists: CNES co-funding, the entity pays this per km², at least the minimum km²
    cofunding_eur_per_km2: Decimal = Decimal("1")
    cofunding_minimum_km2: float = 100.0
    # SPOT 6/7 beyond the quota, without a prepaid package: paid on a project budget
    spot_project_eur_per_km2: Decimal = Decimal("0.50")
    # Airbus invoicing minimums, km², by request kind
    invoicing_minimum_km2: dict[str, float] = field(default_factory=lambda: {"archive": 25.0, "tasking": 100.0})
    quote_valid_hours: float = 72.0
