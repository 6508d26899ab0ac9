"""Events of the quota ledger (producer: arbitration service), on a topic of their own.

Each cell has a budget in km² per period (Pléiades: a quarter, ``2026-Q1``; SPOT 6/7: a year,
``2026``). A **hold** is taken when a request is accepted, **committed** on delivery (the delivered
km²) and **released** on cancellation, failure or an undelivered remainder. Every entry has a
deterministic id (``hold:<case>``, ``commit:<case>:<n>``, ``release:<case>:<reason>``), so a reader
that sees one twice counts it once. Each event carries the cell's balance for the period after it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dinamis_contracts.base import Payload

TOPIC = "arbitration.quota.events.v1"
SOURCE = "/dinamis/arbitration"
QUOTA_HELD = "fr.dinamis.arbitration.quota.held.v1"
QUOTA_COMMITTED = "fr.dinamis.arbitration.quota.committed.v1"
QUOTA_RELEASED = "fr.dinamis.arbitration.quota.released.v1"

Cell = Literal["pleiades-science", "institutional", "spot-science"]


class QuotaBalanceV1(Payload):
    """A cell's burn-down for one period: ``held`` is accepted and not yet delivered nor released;
    ``remaining`` = budget − held − committed (never below 0)."""

    budget_km2: float
    held_km2: float
    committed_km2: float
    released_km2: float
    remaining_km2: float


class _Entry(Payload):
    entry_id: str
    case_id: str  # = the request id
    cell: Cell
    period: str
    km2: float
    at: datetime
    balance: QuotaBalanceV1


class QuotaHeldV1(_Entry):
    """A request was accepted: its km² are set aside from the cell's budget for the period."""


class QuotaCommittedV1(_Entry):
    """Imagery was delivered: that much of the hold is spent."""


class QuotaReleasedV1(_Entry):
    """What was held goes back to the budget (``reason``: cancelled, rejected, failed, undelivered…)."""

    reason: str
