"""Use cases of the arbitration service: a case per submitted request, the requester's answers and
cancellations, the decisions of the cells, and the cases and queues a caller may read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from arbitration_service.domain.access import Actor
from arbitration_service.domain.errors import CaseNotFound, ConcurrentUpdate, UnknownCell
from arbitration_service.domain.model import CELLS, Case
from arbitration_service.domain.queue import Pace, QueueEntry, queue
from arbitration_service.service_layer.context import Arbitration


@dataclass(frozen=True)
class OpenCase:
    request_id: str
    mission: str
    area_km2: float
    requester: dict[str, Any]
    priority: int | None = None


async def open_case(ctx: Arbitration, cmd: OpenCase) -> bool:
    """One case per request, whatever the number of deliveries: the case id is the request id.
    Returns ``False`` when the request had its case already."""
    case = Case.open(request_id=cmd.request_id, mission=cmd.mission, area_km2=cmd.area_km2,
                     requester=cmd.requester, at=ctx.clock(), rule=ctx.rule, priority=cmd.priority)
    return await ctx.cases.add(case)


@dataclass(frozen=True)
class Decide:
    case_id: str
    decision: str
    reason: str
    accepted_area_km2: float | None = None


async def decide(ctx: Arbitration, actor: Actor, cmd: Decide, attempts: int = 5) -> Case:
    """A person's decision on a case of their cell, recorded once and announced; a final one counts
    in the cell's pace. Two arbiters deciding at once: one wins, the other is told it was decided."""
    for _ in range(attempts):
        case = await ctx.cases.get(cmd.case_id)  # fresh: a decision is never taken on a stale copy
        if case is None:
            raise CaseNotFound(f"no case {cmd.case_id}")
        actor.must_sit_in(case.cell, "decide its cases")
        decision = case.decide(cmd.decision, cmd.reason, actor.subject, ctx.clock(), cmd.accepted_area_km2)
        if await ctx.cases.save(case):
            if decision.final:
                await ctx.cases.count_decision(case.cell, decision.decided_at.date(), case.id)
            return case
    raise ConcurrentUpdate(f"case {cmd.case_id} kept changing while you decided: try again")


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


async def cell_queue(ctx: Arbitration, actor: Actor, cell: str, limit: int) -> CellQueue:
    if cell not in CELLS:
        raise UnknownCell(f"no cell {cell!r}: one of {', '.join(CELLS)}")
    actor.must_sit_in(cell, "read its queue")
    cases, count = await ctx.cases.in_review(cell, ctx.queue.max_cases)
    now = ctx.clock()
    days = ctx.queue.pace_days
    decided = await ctx.cases.decisions_since(cell, (now - timedelta(days=days - 1)).date()) if days > 0 else 0
    pace = Pace.of(decided, days, ctx.queue.default_decisions_per_day)
    return CellQueue(cell, count, count <= len(cases), pace, queue(cases, pace, now)[:limit])
