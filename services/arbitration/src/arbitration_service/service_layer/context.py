"""What every use case gets: the repository, the automatic rule and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from arbitration_service.domain.model import AutoRule
from arbitration_service.service_layer.ports import CaseRepository


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Arbitration:
    cases: CaseRepository
    rule: AutoRule = field(default_factory=AutoRule)
    clock: Callable[[], datetime] = utcnow
