"""What the handlers need from the outside world: the MongoDB repository in production, an
in-memory one in unit tests."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from arbitration_service.domain.model import Case


@dataclass(frozen=True)
class Claim:
    """A person's decision being recorded: one at a time per case (see ``service_layer.decisions``)."""

    case_id: str
    token: str  # this attempt's: only it drops its claim
    decision: str
    reason: str
    accepted_area_km2: float | None
    by: str
    at: datetime


class CaseRepository(Protocol):
    async def add(self, case: Case) -> bool:
        """Store a new case with its events; ``False`` if the request already has one."""

    async def get(self, case_id: str, for_change: bool = False) -> Case | None:
        """The case; with ``for_change``, as this process last wrote or read it, if it did (a stale
        copy makes ``save`` refuse, and the next ``get`` reads it again)."""

    async def save(self, case: Case, applied_event: str | None = None) -> bool:
        """Store the change made to ``case`` since it was read, with its events; ``False`` if the case
        changed meanwhile. With ``applied_event``: ``True`` without change if that event was applied."""

    async def list(self, cells: Set[str] | None, limit: int) -> list[Case]:
        """Newest first, of these cells (``None``: every cell)."""

    async def in_review(self, cell: str, limit: int) -> tuple[list[Case], int]:
        """At most ``limit`` of the cell's cases in review (in no particular order), and how many there are."""

    async def count_decision(self, cell: str, day: date, case_id: str) -> None:
        """Count a final decision by a person in the cell's pace (once per case, however often called)."""

    async def decisions_since(self, cell: str, since: date) -> int:
        """Final decisions by people in the cell from ``since`` (included) on."""

    async def claim(self, claim: Claim) -> Claim | None:
        """Take the case's claim; ``None`` when taken, else the claim another attempt holds."""

    async def unclaim(self, claim: Claim) -> None:
        """Drop this claim (not another attempt's)."""

    async def claims_before(self, at: datetime, limit: int) -> list[Claim]:
        """Claims taken before ``at``: their attempts died or stalled."""
