"""What the handlers need from the outside world: the MongoDB repository in production, an
in-memory one in unit tests."""

from __future__ import annotations

from collections.abc import Set
from typing import Protocol

from arbitration_service.domain.model import Case


class CaseRepository(Protocol):
    async def add(self, case: Case) -> bool:
        """Store a new case with its events; ``False`` if the request already has one."""

    async def list(self, cells: Set[str] | None, limit: int) -> list[Case]:
        """Newest first, of these cells (``None``: every cell)."""
