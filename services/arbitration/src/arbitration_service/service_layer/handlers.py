from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from arbitration_service.domain.model import AutoRule, Case


class CaseRepository(Protocol):
    async def add(self, case: Case) -> bool:
        """Store a new case with its events; ``False`` if the request already has one."""

    async def list(self, cells: set[str] | None, limit: int) -> list[Case]: ...


async def open_case(*, request_id: str, mission: str, area_km2: float, requester: dict[str, Any],
                    repo: CaseRepository, rule: AutoRule,
                    now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> bool:
    """One case per request, whatever the number of deliveries: the case id is the request id."""
    case = Case.open(request_id=request_id, mission=mission, area_km2=area_km2, requester=requester,
                     at=now(), rule=rule)
    return await repo.add(case)
