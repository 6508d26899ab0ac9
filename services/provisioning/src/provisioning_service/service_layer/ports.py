"""What the handlers need from the outside world: the MongoDB repository in production, an
in-memory one in unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from provisioning_service.domain.model import OrderIntent


class OrderRepository(Protocol):
    async def add(self, order: OrderIntent) -> bool:
        """Store a new order intent with its events; ``False`` if its request already has one."""

    async def list(self, limit: int, before: datetime | None = None,
                   request_id: str | None = None) -> list[OrderIntent]:
        """Newest first; ``before`` pages by ``recorded_at``; ``request_id`` keeps that request's only."""
