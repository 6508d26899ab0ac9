"""An in-memory request repository with the Mongo one's semantics (duplicate ids refused,
optimistic version check, an incoming event applied once), and an in-memory entity directory
with the Mongo one's (a snapshot kept only if its version is newer)."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from requests_service.domain.entities import Entity
from requests_service.domain.model import Request
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

    async def list_for_owner(self, owner_id: str, limit: int, before: datetime | None) -> list[Request]:
        mine = [r for r in self.rows.values() if r.requester.user_id == owner_id
                and (before is None or r.submitted_at < before)]
        return sorted(mine, key=lambda r: r.submitted_at, reverse=True)[:limit]


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
def ctx(repo, entities) -> Requests:
    return Requests(requests=repo, entities=entities)
