"""HTTP schemas of the arbitration API (``<Entity>Public``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from arbitration_service.domain.model import Case


class CasePublic(BaseModel):
    id: str
    request_id: str
    cell: str
    mission: str
    area_km2: float
    status: str
    opened_at: datetime
    decision: str | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, c: Case) -> CasePublic:
        d = c.decision
        return cls(id=c.id, request_id=c.request_id, cell=c.cell, mission=c.mission, area_km2=c.area_km2,
                   status=c.status, opened_at=c.opened_at, decision=d.decision if d else None,
                   reason=d.reason if d else None, decided_by=d.decided_by if d else None,
                   decided_at=d.decided_at if d else None)
