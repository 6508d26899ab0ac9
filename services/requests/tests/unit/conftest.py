"""An in-memory request repository with the Mongo one's semantics (duplicate ids refused,
optimistic version check, an incoming event applied once), an in-memory entity directory
with the Mongo one's (a snapshot kept only if its version is newer), and a catalogue holding a few
airbus-archive scenes (or down)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from requests_service.domain.access import Listing
from requests_service.domain.entities import Entity
from requests_service.domain.errors import UpstreamUnavailable
from requests_service.domain.model import Request
from requests_service.domain.quote import Quote
from requests_service.service_layer import quotes
from requests_service.service_layer.context import Requests


class InMemoryRequests:
    def __init__(self) -> None:
        self.rows: dict[str, Request] = {}
        self.published: list = []

    async def add(self, request: Request) -> bool:
        if request.id in self.rows:
            return False
        self.published += request.events
        request.events.clear()
        request.version = 1
        self.rows[request.id] = copy.deepcopy(request)
        return True

    async def get(self, request_id: str, for_change: bool = False) -> Request | None:
        found = self.rows.get(request_id)
        return copy.deepcopy(found) if found else None

    async def save(self, request: Request, applied_event: str | None = None) -> bool:
        stored = self.rows[request.id]
        if stored.version != request.version or (applied_event and applied_event in stored.seen_events):
            return False
        self.published += request.events
        request.events.clear()
        request.version += 1
        if applied_event:
            request.seen_events.add(applied_event)
        self.rows[request.id] = copy.deepcopy(request)
        return True

    async def list_for(self, listing: Listing, limit: int, before: datetime | None) -> list[Request]:
        def listed(r: Request) -> bool:
            if listing.owner_id is not None:
                return r.requester.user_id == listing.owner_id
            if listing.entity_id is not None:
                return r.requester.entity_id == listing.entity_id
            if listing.cells:
                return r.cell in listing.cells
            return listing.everything

        found = [r for r in self.rows.values() if listed(r) and (before is None or r.submitted_at < before)]
        return sorted(found, key=lambda r: r.submitted_at, reverse=True)[:limit]


    async def overdue(self, now: datetime, limit: int) -> list[Request]:
        from requests_service.domain.model import EXPIRABLE

        due = [r for r in self.rows.values() if r.status in EXPIRABLE and r.expires_at and r.expires_at < now]
        return [copy.deepcopy(r) for r in due[:limit]]


class InMemoryEntities:
    def __init__(self) -> None:
        self.rows: dict[str, Entity] = {}

    async def get(self, entity_id: str) -> Entity | None:
        return self.rows.get(entity_id)

    async def apply(self, entity: Entity) -> bool:
        held = self.rows.get(entity.entity_id)
        if held is not None and held.version >= entity.version:
            return False
        self.rows[entity.entity_id] = entity
        return True


def scene(item_id: str, lon: float, lat: float, platform: str = "pleiades-1a", size: float = 0.2) -> dict[str, Any]:
    """An airbus-archive STAC item: a ``size``° square scene with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "id": item_id, "collection": "airbus-archive",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"datetime": "2021-06-01T10:30:00Z", "platform": platform}}


class FakeCatalogue:
    def __init__(self, *items: dict[str, Any]) -> None:
        self.items = {i["id"]: i for i in items}
        self.down = False
        self.asked: list[list[str]] = []

    async def archive_items(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.asked.append(list(item_ids))
        if self.down:
            raise UpstreamUnavailable("the catalogue did not answer")
        return {i: self.items[i] for i in item_ids if i in self.items}

    async def delivered_covering(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []


NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def priced(monkeypatch) -> list[tuple[str, str, str]]:
    """For the submission tests (``pytestmark = pytest.mark.usefixtures("priced")``): ``quotes.make_quote``
    (tested on its own) stands still: a request within the free quota, and
    a record of what was quoted for whom with which token."""
    asked: list[tuple[str, str, str]] = []

    async def make_quote(ctx: Requests, spec: Any, actor: Any, token: str, category: str | None = None) -> Quote:
        asked.append((spec.kind, actor.subject, token))
        return Quote(area_km2=spec.area_km2, free_km2=spec.area_km2, over_quota_km2=0, billed_km2=0,
                     price_eur=Decimal("0.00"), payer="nobody", basis="within the free quota",
                     invoicing_minimum_km2=25, cell="pleiades-science", period="2026-Q1", quoted_at=NOW,
                     valid_until=NOW + timedelta(hours=72))

    monkeypatch.setattr(quotes, "make_quote", make_quote)
    return asked


@pytest.fixture
def catalogue() -> FakeCatalogue:
    return FakeCatalogue(scene("pl-1", 3.8, 43.6), scene("pl-2", 4.2, 43.6), scene("sp-1", 5.0, 44.0, "spot-7"))


@pytest.fixture
def entities() -> InMemoryEntities:
    """Knows ``ent-1``: an approved scientific lab, eligible for both missions."""
    directory = InMemoryEntities()
    directory.rows["ent-1"] = Entity(entity_id="ent-1", name="Lab 1", kind="scientific", status="approved",
                                     eligible_missions=frozenset({"pleiades", "spot-6-7"}), version=3)
    return directory


@pytest.fixture
def repo() -> InMemoryRequests:
    return InMemoryRequests()


@pytest.fixture
def ctx(repo, entities, catalogue) -> Requests:
    return Requests(requests=repo, entities=entities, catalogue=catalogue, clock=lambda: NOW)
