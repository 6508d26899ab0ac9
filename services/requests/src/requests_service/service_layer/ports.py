"""What the handlers need from the outside world (a real Mongo repository in production,
an in-memory one in unit tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from requests_service.domain.access import Listing
from requests_service.domain.entities import Entity
from requests_service.domain.model import Request
from requests_service.domain.quote import Allowance


class RequestRepository(Protocol):
    async def add(self, request: Request) -> bool:
        """Store a new request with its events; ``False`` if one with that id exists."""

    async def get(self, request_id: str, for_change: bool = False) -> Request | None:
        """The request; ``for_change``: possibly as this process last saw it, to change it (``save``
        then refuses if it moved meanwhile, and the caller reads it again)."""

    async def save(self, request: Request, applied_event: str | None = None) -> bool:
        """Store changes if nobody else did since ``request.version`` (and the event is new)."""

    async def list_for(self, listing: Listing, limit: int, before: datetime | None) -> list[Request]:
        """The requests ``listing`` names, newest first, submitted before ``before``."""

    async def overdue(self, now: datetime, limit: int) -> list[Request]:
        """Requests that can still expire and whose ``expires_at`` is before ``now`` (at most ``limit``)."""


class EntityDirectory(Protocol):
    """The entities this service has learnt from the accounts events (its own read model)."""

    async def get(self, entity_id: str) -> Entity | None: ...

    async def apply(self, entity: Entity) -> bool:
        """Keep ``entity`` if its version is newer than the one held; ``False`` if it changed nothing."""


class Catalogue(Protocol):
    """The catalogue's public STAC API (over HTTP: never its database). Raises
    ``dinamis_common.http.ServiceUnavailable``-like errors (503 + Retry-After) when it cannot answer."""

    async def archive_items(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The ``airbus-archive`` STAC items among ``item_ids``, by id (unknown ids are absent)."""

    async def delivered_covering(self, mission: str, aoi: dict[str, Any], start: datetime | None,
                                 end: datetime | None, max_cloud_cover: float | None,
                                 max_incidence_angle: float | None, limit: int) -> list[dict[str, Any]]:
        """Delivered STAC items of ``mission`` intersecting ``aoi`` acquired in [start, end] within the limits."""


class Allowances(Protocol):
    """The arbitration service's quota facts for the caller's entity (over HTTP, with the caller's token)."""

    async def allowance(self, token: str, mission: str, kind: str, category: str) -> Allowance:
        """``category``: the entity's kind as this service knows it, which routes the request (the token's
        claim may be stale)."""


@dataclass(frozen=True)
class QueuePlace:
    cell: str
    position: int
    expected_decision_date: date


class Queues(Protocol):
    """Where a request in review stands in its cell's queue (the arbitration service computes it)."""

    async def place(self, token: str, request_id: str) -> QueuePlace | None: ...


@dataclass(frozen=True)
class PendingTasking:
    request_id: str
    mission: str
    mode: str
    aoi: dict[str, Any]
    window_start: datetime
    window_end: datetime


class TaskingIndex(Protocol):
    """Pending tasking requests by place and time (a projection of this service's own events), to
    offer joining one instead of tasking the same place again."""

    async def overlapping(self, mission: str, aoi: dict[str, Any], start: datetime, end: datetime,
                          limit: int) -> list[PendingTasking]: ...
