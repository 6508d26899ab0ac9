"""What the handlers need from the outside world (a real Mongo repository in production,
an in-memory one in unit tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from requests_service.domain.entities import Entity
from requests_service.domain.model import Request


class RequestRepository(Protocol):
    async def add(self, request: Request) -> bool:
        """Store a new request with its events; ``False`` if one with that id exists."""

    async def get(self, request_id: str, for_change: bool = False) -> Request | None:
        """The request; ``for_change``: possibly as this process last saw it, to change it (``save``
        then refuses if it moved meanwhile, and the caller reads it again)."""

    async def save(self, request: Request, applied_event: str | None = None) -> bool:
        """Store changes if nobody else did since ``request.version`` (and the event is new)."""

    async def list_for_owner(self, owner_id: str, limit: int, before: datetime | None) -> list[Request]: ...


class EntityDirectory(Protocol):
    """The entities this service has learnt from the accounts events (its own read model)."""

    async def get(self, entity_id: str) -> Entity | None: ...

    async def apply(self, entity: Entity) -> bool:
        """Keep ``entity`` if its version is newer than the one held; ``False`` if it changed nothing."""
