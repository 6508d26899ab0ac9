"""Use cases of the request-intake service: plain functions over a repository and the entity directory."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from uuid6 import uuid7

from requests_service.domain.aoi import parse_aoi
from requests_service.domain.entities import may_submit
from requests_service.domain.errors import ConcurrentUpdate, IdempotencyKeyReused, NotEligible, RequestNotFound
from requests_service.domain.model import Request, Requester
from requests_service.service_layer.ports import EntityDirectory, RequestRepository

_IDEMPOTENCY_NS = uuid.UUID("6f1d7a1e-2b1c-4a55-9a57-6d1f3c0b8e21")


@dataclass(frozen=True)
class SubmitRequest:
    title: str
    mission: str
    aoi: dict[str, Any]
    user_id: str
    entity_id: str | None
    idempotency_key: str | None = None


def _fingerprint(cmd: SubmitRequest) -> str:
    body = {"title": cmd.title, "mission": cmd.mission, "aoi": cmd.aoi}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def submit(cmd: SubmitRequest, repo: RequestRepository, entities: EntityDirectory,
                 now: Callable[[], datetime] | None = None) -> tuple[Request, bool]:
    """Returns the request and whether it was created now (``False``: an idempotent replay).

    Only members of an approved entity eligible for the mission may submit; the routing
    category is the entity's kind as this service knows it (a token's claim may be stale).
    With an Idempotency-Key the request id is derived from (caller, key): a replay collides
    on the id, so two concurrent replays can never create two requests.
    """
    aoi, area = parse_aoi(cmd.aoi)
    fingerprint = _fingerprint(cmd)
    if cmd.idempotency_key:
        request_id = str(uuid.uuid5(_IDEMPOTENCY_NS, f"{cmd.user_id}\x00{cmd.idempotency_key}"))
    else:
        request_id = str(uuid7())
    entity = await entities.get(cmd.entity_id) if cmd.entity_id else None
    try:
        may_submit(entity, cmd.entity_id, cmd.mission)
    except NotEligible:
        # a retry of a request accepted before the entity lost its eligibility still gets its answer
        if cmd.idempotency_key and (done := await repo.get(request_id)) and done.fingerprint == fingerprint:
            return done, False
        raise
    assert entity is not None  # may_submit refuses an unknown entity
    requester = Requester(cmd.user_id, cmd.entity_id, entity.kind)
    request = Request.submit(id=request_id, title=cmd.title, mission=cmd.mission, aoi=aoi, area_km2=area,
                             requester=requester, at=(now or _utcnow)(), fingerprint=fingerprint)
    if await repo.add(request):
        return request, True
    existing = await repo.get(request_id)
    if existing is None or existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request body")
    return existing, False


async def apply_event(request_id: str, event_id: str, change: Callable[[Request], None],
                      repo: RequestRepository, attempts: int = 5) -> bool:
    """Apply an upstream event once. Returns ``False`` when it had been applied already."""
    for _ in range(attempts):
        request = await repo.get(request_id)
        if request is None:
            raise RequestNotFound(f"request {request_id} is unknown here")
        if event_id in request.seen_events:
            return False
        change(request)
        if await repo.save(request, applied_event=event_id):
            return True
    raise ConcurrentUpdate(f"request {request_id} kept changing under event {event_id}")


def _utcnow() -> datetime:
    return datetime.now(UTC)
