"""What every use case gets: the request repository, the entity read model and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from requests_service.service_layer.ports import EntityDirectory, RequestRepository


def utcnow() -> datetime:
    """Now, to the millisecond: what MongoDB keeps, so that what is announced is what is read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Requests:
    requests: RequestRepository
    entities: EntityDirectory
    clock: Callable[[], datetime] = utcnow
