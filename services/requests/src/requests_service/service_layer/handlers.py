"""Use cases of the request-intake service: plain functions over its context (the request
repository, the entity directory, the clock, the rules in force, the services it asks)."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from uuid6 import uuid7

from requests_service.domain.access import Actor, listing_for, may_read
from requests_service.domain.entities import Entity, eligibility, may_submit
from requests_service.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    NotRequester,
    RequestNotFound,
)
from requests_service.domain.model import Request, Requester, Status
from requests_service.service_layer import quotes
from requests_service.service_layer.context import Requests
from requests_service.service_layer.ports import QueuePlace
from requests_service.service_layer.specs import build_spec

log = logging.getLogger(__name__)
_IDEMPOTENCY_NS = uuid.UUID("6f1d7a1e-2b1c-4a55-9a57-6d1f3c0b8e21")


@dataclass(frozen=True)
class SubmitRequest:
    body: dict[str, Any]  # the JSON body of POST /api/requests (``schemas.RequestCreate``, dumped)
    actor: Actor
    token: str = ""  # the caller's bearer token, forwarded to arbitration for the quote
    idempotency_key: str | None = None


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


async def submit(ctx: Requests, cmd: SubmitRequest) -> tuple[Request, bool]:
    """Returns the request and whether it was created now (``False``: an idempotent replay).

    Only members of an approved entity eligible for the mission may submit; the routing
    category is the entity's kind as this service knows it (a token's claim may be stale).
    The body is checked and measured (``specs.build_spec``: the catalogue is asked for archive
    scenes), then quoted (``quotes.make_quote``), and the request stored with its frozen quote;
    when any of it fails, nothing is stored. With an Idempotency-Key the request id is derived
    from (caller, key): a replay collides on the id, so two concurrent replays can never create
    two requests, and a replay of a stored request answers it without quoting again.
    """
    actor = cmd.actor
    fingerprint = _fingerprint(cmd.body)
    if cmd.idempotency_key:
        request_id = str(uuid.uuid5(_IDEMPOTENCY_NS, f"{actor.subject}\x00{cmd.idempotency_key}"))
        if (done := await ctx.requests.get(request_id)) is not None:
            if done.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request body")
            return done, False
    else:
        request_id = str(uuid7())
    repo = ctx.requests
    entity = await ctx.entities.get(actor.entity_id) if actor.entity_id else None
    may_submit(entity, actor.entity_id, cmd.body.get("mission", ""))
    assert entity is not None  # may_submit refuses an unknown entity
    spec = await build_spec(ctx, cmd.body)
    quote = await quotes.make_quote(ctx, spec, actor, cmd.token, entity.kind)
    requester = Requester(actor.subject, actor.entity_id, entity.kind)
    request = Request.submit(id=request_id, spec=spec, quote=quote, requester=requester, at=ctx.clock(),
                             fingerprint=fingerprint)
    if await repo.add(request):
        return request, True
    existing = await repo.get(request_id)
    if existing is None or existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request body")
    return existing, False


async def apply_event(ctx: Requests, request_id: str, event_id: str, change: Callable[[Request], None],
                      attempts: int = 5) -> bool:
    """Apply an upstream event once. Returns ``False`` when it had been applied already."""
    for _ in range(attempts):
        # as this process last saw it: a replica that moved it meanwhile makes ``save`` refuse, and
        # the store then holds the newer version for the next attempt
        request = await ctx.requests.get(request_id, for_change=True)
        if request is None:
            raise RequestNotFound(f"request {request_id} is unknown here")
        if event_id in request.seen_events:
            return False
        change(request)
        if await ctx.requests.save(request, applied_event=event_id):
            return True
    raise ConcurrentUpdate(f"request {request_id} kept changing under event {event_id}")


async def _requester_acts(ctx: Requests, request_id: str, actor: Actor, what: str,
                          act: Callable[[Request], bool], attempts: int = 5) -> Request:
    """The requester's own action on their request, on its current state (read afresh: a cached copy
    could be behind a replica's change and refuse wrongly). ``act`` answers ``False`` when the request
    already is as asked (a repeated call): nothing is stored, the request is returned as it is.
    Two replicas acting at once: one claims the next version, the other reads again and decides anew."""
    for _ in range(attempts):
        request = await visible_request(ctx, request_id, actor)
        if not request.is_requester(actor.subject):
            raise NotRequester(f"only the requester of {request_id} may {what}")
        if not act(request) or await ctx.requests.save(request):
            return request
    raise ConcurrentUpdate(f"request {request_id} kept changing: try again")


async def provide_information(ctx: Requests, request_id: str, actor: Actor, answer: str) -> Request:
    """The requester answers the cell's question: the request goes back to review."""
    return await _requester_acts(ctx, request_id, actor, "answer for it",
                                 lambda r: r.provide_information(answer, actor.subject, ctx.clock()))


async def cancel(ctx: Requests, request_id: str, actor: Actor, reason: str) -> Request:
    """The requester withdraws the request (before it is ordered; a tasking until the configured hours
    before its window); cancelling it again changes nothing."""
    def act(r: Request) -> bool:
        now = ctx.clock()
        return r.cancel(reason, actor.subject, now, ctx.rules(now.date()).cancel_tasking_before_window_hours)

    return await _requester_acts(ctx, request_id, actor, "cancel it", act)


async def expire_overdue(ctx: Requests, limit: int = 200, attempts: int = 5) -> int:
    """Expire the taskings whose window ended before they were ordered (run every few minutes by the
    service); how many expired now. A replica moving one meanwhile makes ``save`` refuse: it is read
    again, and expires only if still due."""
    expired = 0
    for found in await ctx.requests.overdue(ctx.clock(), limit):
        request: Request | None = found
        for _ in range(attempts):
            if request is None or not request.expire(ctx.clock()):
                break
            if await ctx.requests.save(request):
                expired += 1
                break
            request = await ctx.requests.get(found.id)
    return expired


async def visible_request(ctx: Requests, request_id: str, actor: Actor) -> Request:
    """The request, if the actor may read it (``domain.access``); otherwise as if it did not exist."""
    found = await ctx.requests.get(request_id)
    if found is None or not may_read(actor, found.requester.user_id, found.requester.entity_id, found.cell):
        raise RequestNotFound(f"no request {request_id} visible to you")
    return found


async def visible_requests(ctx: Requests, actor: Actor, cell: str | None, limit: int,
                           before: datetime | None) -> list[Request]:
    """What the actor may list (their entity's; an arbiter's cells'; everything for operators and admins)."""
    return await ctx.requests.list_for(listing_for(actor, cell), limit, before)


IN_QUEUE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})


async def queue_place(ctx: Requests, request: Request, token: str) -> QueuePlace | None:
    """Where the request stands in its cell's queue while it waits there; ``None`` otherwise, or when
    arbitration cannot say now (a read never fails for it)."""
    if ctx.queues is None or request.status not in IN_QUEUE:
        return None
    try:
        return await ctx.queues.place(token, request.id)
    except Exception as exc:  # the place is a courtesy of another service: the read goes on
        log.warning("queue place of %s unavailable: %s: %s", request.id, type(exc).__name__, exc)
        return None


async def eligibility_of(ctx: Requests, actor: Actor) -> dict[str, str | None]:
    """For each mission: ``None`` if the actor may submit a request now, else why not."""
    entity: Entity | None = await ctx.entities.get(actor.entity_id) if actor.entity_id else None
    return eligibility(entity, actor.entity_id)


async def entity_announced(ctx: Requests, entity: Entity) -> bool:
    """Keep the accounts service's newest snapshot of an entity; ``False`` if it changed nothing."""
    return await ctx.entities.apply(entity)
