"""What the handlers and the worker need from the outside world: MongoDB repositories, the object store
and the package reader in production, in-memory ones in unit tests (the Airbus port is ``airbus_port``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from provisioning_service.domain.delivery import ProductFile
from provisioning_service.domain.model import Order
from provisioning_service.domain.requests import RequestDetails


class OrderRepository(Protocol):
    async def add(self, order: Order) -> bool:
        """Store a new order with its events; ``False`` if its request already has one."""

    async def get(self, request_id: str) -> Order | None: ...

    async def find(self, order_or_request_id: str) -> Order | None:
        """The order of this id, or of this request."""

    async def save(self, order: Order) -> bool:
        """Store the order's new state with its events if nobody changed it since it was read
        (``False``: read it again and decide again)."""

    async def due(self, now: datetime, limit: int) -> list[Order]:
        """Orders the worker drives whose ``next_check_at`` has come, the most overdue first."""

    async def list(self, limit: int, before: datetime | None = None, request_id: str | None = None,
                   status: str | None = None) -> list[Order]:
        """Newest first; ``before`` pages by ``recorded_at``."""


class RequestDirectory(Protocol):
    async def add(self, request: RequestDetails) -> None:
        """Keep what an order needs of a submitted request (a second delivery changes nothing)."""

    async def get(self, request_id: str) -> RequestDetails | None: ...


class ObjectStore(Protocol):
    async def put(self, bucket: str, key: str, data: bytes, content_type: str) -> str:
        """Store (or overwrite) the object; its ``s3://bucket/key`` URL."""


class ProductReader(Protocol):
    def unpack(self, package: bytes) -> dict[str, ProductFile]:
        """The package's files by role (metadata, image, quicklook); raises ``InvalidDelivery``."""

    def item(self, metadata: bytes, hrefs: dict[str, str], *, request_id: str, order_id: str,
             collection: str) -> dict[str, Any]:
        """The STAC item described by the metadata file; raises ``InvalidDelivery``."""
