"""What the HTTP side and the handlers need from the store: pgstac and the acquisitions table on
PostgreSQL in production (``adapters``), fakes in unit tests."""

from __future__ import annotations

from typing import Any, Protocol

from catalogue_service.domain.acquisitions import Acquisition


class IndexUnavailable(Exception):
    """The index does not answer (its database stopped, unreachable, every connection busy): 503
    with Retry-After. The message says so in words; what the driver said stays in the log."""

    failure_kind = "transient"


class IndexTimeout(IndexUnavailable):
    """A statement ran longer than the database's statement time-out (``postgres_statement_timeout_ms``)."""


class SearchRefused(Exception):
    """The index could not evaluate a search it was given (an unknown function, a property of the
    wrong type...): 400, without the database's own text."""


class StacIndex(Protocol):
    """The STAC index (pgstac): search and read, as STAC JSON."""

    async def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """pgstac's FeatureCollection for a search body (see ``domain.search.to_pgstac``)."""

    async def collections(self) -> list[dict[str, Any]]: ...

    async def collection(self, cid: str) -> dict[str, Any] | None: ...

    async def item(self, cid: str, item_id: str) -> dict[str, Any] | None: ...

    async def queryables(self, cid: str | None) -> dict[str, Any]: ...

    async def upsert_item(self, item: dict[str, Any]) -> bool:
        """Add or replace one item (by collection and id); ``True`` when it was not there before.
        Raises ``InvalidItem`` when the index refuses it (e.g. its footprint)."""


class InvalidItem(ValueError):
    """The index cannot keep this item (its reason says why)."""


class AcquisitionLog(Protocol):
    async def record(self, acquisition: Acquisition) -> bool:
        """Keep an acquisition; ``False`` if its order was known already."""

    async def delivered(self, order_id: str, item_id: str) -> None:
        """The acquisition's product is in the catalogue as ``item_id``."""

    async def recent(self, limit: int) -> list[Acquisition]:
        """Newest order first."""
