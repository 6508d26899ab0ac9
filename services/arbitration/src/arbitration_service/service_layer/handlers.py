"""Use cases of the arbitration service: a case per submitted request, the requester's answers and
cancellations, and the cases and queues a caller may read (the decisions of the cells:
``service_layer.decisions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from arbitration_service.domain.access import Actor
from arbitration_service.domain.errors import CaseNotFound, ConcurrentUpdate, UnknownCell
from arbitration_service.domain.ledger import QuotaExceeded
from arbitration_service.domain.model import ACCEPTANCES, CELLS, Case, Status
from arbitration_service.domain.queue import Pace, QueueEntry, place, queue
from arbitration_service.service_layer import quotas
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.service_layer.decisions import Decide, decide

__all__ = ["Decide", "decide"]  # decisions by people: service_layer.decisions


@dataclass(frozen=True)
class OpenCase:
    request_id: str
    mission: str
    area_km2: float
    requester: dict[str, Any]
    priority: str = "standard"
    kind: str = "tasking"
    justification: str = ""
    funding_reference: str | None = None
    quote: dict[str, Any] | None = None  # the QuoteV1 dump the request was submitted with
    tasking: dict[str, Any] | None = None
    scenes: list[dict[str, Any]] = field(default_factory=list)


async def open_case(ctx: Arbitration, cmd: OpenCase) -> bool:
    """One case per request, whatever the number of deliveries: the case id is the request id.
    Returns ``False`` when the request had its case already. What a rule of the cell accepts is
    held in the cell's quota first; refused, the case waits for a person (``service_layer.decisions``)."""
    at, refused = ctx.clock(), None
    case = Case.open(request_id=cmd.request_id, mission=cmd.mission, area_km2=cmd.area_km2,
                     requester=cmd.requester, at=at, priority=cmd.priority, kind=cmd.kind,
                     justification=cmd.justification, funding_reference=cmd.funding_reference, quote=cmd.quote,
                     tasking=cmd.tasking, scenes=list(cmd.scenes))
    verdict = ctx.rules.verdict(case)
    if verdict is not None:
        if await ctx.cases.get(cmd.request_id) is not None:
            return False  # delivered again: held (or refused) when it was opened
        if verdict.decision in ACCEPTANCES and ctx.quotas is not None:
            try:
                await quotas.hold(ctx.quotas, quotas.HoldQuota(case.id, case.cell, case.mission, case.area_km2, at=at))
            except QuotaExceeded as exc:
                refused = str(exc)
        case.decided_automatically(verdict, at, refused)
    return await ctx.cases.add(case)


async def apply_event(ctx: Arbitration, case_id: str, event_id: str, change: Callable[[Case], Any],
                      attempts: int = 5) -> None:
    """Apply an upstream event to a case once, whatever the deliveries and replicas."""
    for _ in range(attempts):
        case = await ctx.cases.get(case_id, for_change=True)
        if case is None:
            raise CaseNotFound(f"no case for request {case_id}")
        change(case)
        if await ctx.cases.save(case, applied_event=event_id):
            return
    raise ConcurrentUpdate(f"case {case_id} kept changing under event {event_id}")


async def visible_case(ctx: Arbitration, actor: Actor, case_id: str) -> Case:
    case = await ctx.cases.get(case_id)
    cells = actor.visible_cells()
    if case is None or (cells is not None and case.cell not in cells):
        raise CaseNotFound(f"no case {case_id} in your cells")
    return case


async def list_cases(ctx: Arbitration, actor: Actor, limit: int) -> list[Case]:
    return await ctx.cases.list(actor.visible_cells(), limit)


@dataclass(frozen=True)
class CellQueue:
    cell: str
    count: int  # cases in review in the cell
    complete: bool  # ``False``: more cases than the service reads for one queue; positions are among those read
    pace: Pace
    entries: list[QueueEntry]


async def _waiting(ctx: Arbitration, cell: str) -> tuple[list[Case], int, Pace, datetime]:
    """The cell's cases in review (at most ``queue.max_cases``: one pushed-down query), how many
    there are, the cell's pace and now: what its queue and every place in it are computed from."""
    cases, count = await ctx.cases.in_review(cell, ctx.queue.max_cases)
    now = ctx.clock()
    days = ctx.queue.pace_days
    decided = await ctx.cases.decisions_since(cell, (now - timedelta(days=days - 1)).date()) if days > 0 else 0
    return cases, count, Pace.of(decided, days, ctx.queue.default_decisions_per_day), now


async def cell_queue(ctx: Arbitration, actor: Actor, cell: str, limit: int) -> CellQueue:
    if cell not in CELLS:
        raise UnknownCell(f"no cell {cell!r}: one of {', '.join(CELLS)}")
    actor.must_sit_in(cell, "read its queue")
    cases, count, pace, now = await _waiting(ctx, cell)
    return CellQueue(cell, count, count <= len(cases), pace, queue(cases, pace, now)[:limit])


@dataclass(frozen=True)
class Place:
    request_id: str
    cell: str
    position: int
    count: int  # cases in review in the cell
    expected_decision_date: date


async def queue_place(ctx: Arbitration, actor: Actor, request_id: str) -> Place:
    """Where a request in review stands in its cell's queue, as the cell sees it, for the members of
    the requester's entity, the cell's arbiters, operators and administrators. Anyone else, or a
    request not in review, is told there is no such case (404), so nobody learns of others' requests.
    When the cell has more cases than one queue reads, the case is placed among those read."""
    case = await ctx.cases.get(request_id)
    if case is None or not actor.may_see_place(case.cell, case.requester.get("entity_id")):
        raise CaseNotFound(f"no case for request {request_id} that you may see")
    if case.status is not Status.IN_REVIEW:
        raise CaseNotFound(f"request {request_id} is not waiting in a queue: its case is {case.status}")
    cases, count, pace, now = await _waiting(ctx, case.cell)
    if all(c.id != case.id for c in cases):  # beyond the cases read, or put in review since
        cases.append(case)
    if (entry := place(cases, case.id, pace, now)) is None:
        raise CaseNotFound(f"request {request_id} is not waiting in a queue")
    return Place(case.request_id, case.cell, entry.position, max(count, len(cases)), entry.expected_decision_date)
