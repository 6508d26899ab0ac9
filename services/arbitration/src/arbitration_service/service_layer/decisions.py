"""Decisions by people, checked against the cell's quota (issue 10: an acceptance that would overdraw
the cell's budget for the period is refused with 409 saying what is left, also when two arbiters
accept at the same moment).

An acceptance holds its km² in the ledger of the (cell, period) **before** it is recorded
(``quotas.hold``): the ledger's version claims order concurrent holds from any replica, so two
acceptances that together overdraw cannot both pass; the one refused is recorded nowhere (409).

The hold and the case are two aggregates with no transaction between them. What keeps them agreeing:

* **One decision at a time per case.** An attempt first takes the case's claim (an insert whose
  ``_id`` is the case id: atomic on FerretDB too); another arbiter deciding the same case meanwhile
  gets 409. The case's hold (``hold:<case>``, one per case) is therefore only taken for the decision
  holding the claim: an arbiter who loses the race never held anything, so there is nothing to
  release. (Releasing after a lost race would be wrong here: the hold id is the case's, so it could
  be the winner's, and a release closes the case in the ledger for good.)
* **A claim is carried out.** Hold, record the decision at the case's next version, drop the claim.
  A claim is dropped without a decision only when the case no longer takes it (it was cancelled
  meanwhile: the cancellation's own ledger consumer releases the case, before or after this hold)
  or when the quota refuses it (nothing held).
* **A crash between the hold and the decision** leaves the claim. ``settle``, run by the service
  every few seconds, completes claims older than ``settle_after`` the same way: the hold is there
  already (holding again changes nothing) and the decision is recorded as the arbiter made it, at
  its time. A slow attempt and the sweep completing the same claim record it once (the case's
  version claim), and the slow one answers with the decision recorded.

**Prepaid packages.** An acceptance whose frozen quote is paid from the entity's prepaid package
draws its billed km² from the package (``packages.draw``, entry ``hold:<case>`` of the package's own
ledger) *before* the cell's hold: a package that cannot take it refuses with 409 and nothing is held
anywhere. If the cell's budget then refuses, the draw stays with the case (drawing again for it
changes nothing) until the case is accepted after all, or rejected or cancelled, which give it back.

A rule of the cell (``domain.auto_rules``) decides when a case is opened (``handlers.open_case``):
it holds before the case is inserted; refused, the case opens in review for a person, its history saying
``not accepted automatically: <what is left>``. A crash between the hold and the insert leaves the
submission unacknowledged: delivered again, it finds the hold there and inserts the case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import uuid4

from arbitration_service.domain.access import Actor
from arbitration_service.domain.errors import ArbitrationError, CaseNotFound, ConcurrentUpdate, DecisionConflict
from arbitration_service.domain.model import Case
from arbitration_service.service_layer import packages, quotas
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.service_layer.ports import Claim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decide:
    case_id: str
    decision: str
    reason: str
    accepted_area_km2: float | None = None


async def decide(ctx: Arbitration, actor: Actor, cmd: Decide) -> Case:
    """A person's decision on a case of their cell, recorded once and announced (an acceptance only
    if the cell's quota takes it); a final one counts in the cell's pace."""
    case = await ctx.cases.get(cmd.case_id)
    if case is None:
        raise CaseNotFound(f"no case {cmd.case_id}")
    actor.must_sit_in(case.cell, "decide its cases")
    at = ctx.clock()
    case.decide(cmd.decision, cmd.reason, actor.subject, at, cmd.accepted_area_km2)  # what is wrong, before any claim
    claim = Claim(case.id, uuid4().hex, cmd.decision, cmd.reason, cmd.accepted_area_km2, actor.subject, at)
    if (other := await ctx.cases.claim(claim)) is not None:
        raise DecisionConflict(f"case {case.id} is being decided by {other.by} ({other.decision}, since "
                               f"{other.at:%H:%M:%S} UTC): read it again in a moment")
    return await complete(ctx, claim)


async def complete(ctx: Arbitration, claim: Claim, attempts: int = 5) -> Case:
    """Carry out a claimed decision: hold its quota, record it, drop the claim."""
    held = False
    try:
        for _ in range(attempts):
            case = await ctx.cases.get(claim.case_id)  # fresh: a decision is never taken on a stale copy
            if case is None:
                raise CaseNotFound(f"no case {claim.case_id}")
            if _recorded(case, claim):  # by the sweep, while this attempt was slow
                await ctx.cases.unclaim(claim)
                return case
            decision = case.decide(claim.decision, claim.reason, claim.by, claim.at, claim.accepted_area_km2)
            if decision.holds_quota and ctx.packages is not None and not held and \
                    (draw := case.package_draw(decision.accepted_area_km2)) is not None:
                await packages.draw(ctx.packages, case.id, *draw, at=claim.at)
            if decision.holds_quota and ctx.quotas is not None and not held:
                await quotas.hold(ctx.quotas, quotas.HoldQuota(case.id, case.cell, case.mission,
                                                               decision.accepted_area_km2, at=claim.at))
                held = True
            if await ctx.cases.save(case):
                if decision.final:
                    await ctx.cases.count_decision(case.cell, decision.decided_at.date(), case.id)
                if decision.final and not decision.holds_quota and ctx.packages is not None and case.paid_from_package:
                    await packages.give_back(ctx.packages, case.id, "rejected", claim.at)
                await ctx.cases.unclaim(claim)
                return case
    except (ArbitrationError, ValueError):  # the case no longer takes it, or the quota refuses it
        await ctx.cases.unclaim(claim)
        raise
    if not held:
        await ctx.cases.unclaim(claim)
        raise ConcurrentUpdate(f"case {claim.case_id} kept changing while you decided: try again")
    raise ConcurrentUpdate(f"case {claim.case_id} kept changing while your decision was recorded: its quota is held "
                           f"and the decision will be recorded within {ctx.settle_after.total_seconds():g} s")


async def settle(ctx: Arbitration, limit: int = 100) -> int:
    """Complete the decisions whose attempt died (or stalled) after taking the claim, then the quota
    entries recorded a minute ago and never applied; how many decisions were tried."""
    stale = await ctx.cases.claims_before(ctx.clock() - ctx.settle_after, limit)
    for claim in stale:
        try:
            await complete(ctx, claim)
            log.info("decision %s on case %s by %s completed after its attempt stopped", claim.decision,
                     claim.case_id, claim.by)
        except (ArbitrationError, ValueError) as exc:
            log.info("decision %s on case %s by %s not recorded: %s", claim.decision, claim.case_id, claim.by, exc)
    if ctx.quotas is not None:
        await quotas.settle(ctx.quotas)
    return len(stale)


def _recorded(case: Case, claim: Claim) -> bool:
    return any((d.decision, d.decided_by, d.decided_at) == (claim.decision, claim.by, claim.at)
               for d in case.decisions)
