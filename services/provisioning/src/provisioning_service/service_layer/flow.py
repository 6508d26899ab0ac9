"""The worker: drives every due order one step further, each step's effect stored on the order (with its
events, in one write) before the next step is taken, so that a process killed anywhere resumes where the
order says, and doing a step again does no harm (Airbus orders are found by their customer reference,
objects are written under deterministic keys, an acquisition attempt is announced once).

- ``confirmed``: the request's details (learnt from its events; waited for if not known yet), the order
  already at Airbus if a previous run placed it, else feasibility (tasking), the price checked against the
  frozen quote (``held`` when it does not match), and the order placed.
- ``placed`` / ``acquiring`` / ``production``: polled with backoff (``next_check_at``), new acquisition
  attempts announced, ``delivered`` at Airbus → ``delivering``.
- ``delivering``: the package fetched, its files stored, its DIMAP read into a STAC item, the delivery
  announced; a package that cannot be read → ``failed`` (not announced), which an operator may retry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from provisioning_service.domain.delivery import BUCKET, SHARED_COLLECTIONS, InvalidDelivery, object_key
from provisioning_service.domain.model import CANCELLED, CONFIRMED, DELIVERING, PLACED, TRACKED, Order
from provisioning_service.domain.requests import RequestDetails, price_mismatch
from provisioning_service.service_layer.airbus_port import AirbusError, AirbusOrder
from provisioning_service.service_layer.context import Provisioning

log = logging.getLogger(__name__)


async def run_due(ctx: Provisioning) -> int:
    """One round: every order due now, one step each; the number of orders stepped."""
    done = 0
    for order in await ctx.orders.due(ctx.clock(), ctx.rules.batch):
        try:
            await step(ctx, order)
            done += 1
        except Exception as exc:  # one order's surprise does not stop the others; it is tried again later
            log.exception("order %s (request %s): step failed", order.order_id, order.request_id)
            await _postpone(ctx, order.request_id, f"{type(exc).__name__}: {exc}")
    return done


async def _postpone(ctx: Provisioning, request_id: str, what: str) -> None:
    """After an unexpected failure the order, as stored (none of the failed step's changes), is looked at
    again after the backoff, the failure shown to operators as its reason."""
    try:
        order = await ctx.orders.get(request_id)
        if order is not None and order.due:
            order.later(ctx.clock(), _backoff(ctx, order, ctx.rules.retry_seconds), f"trying again after: {what}"[:500])
            await ctx.orders.save(order)
    except Exception:  # the store itself is failing: the next round sees the order due as it is
        log.exception("order of request %s could not be postponed", request_id)


async def step(ctx: Provisioning, order: Order) -> bool:
    """One step of one order; ``False`` when another writer moved the order first (nothing was done)."""
    try:
        if order.status == CONFIRMED:
            await _place(ctx, order)
        elif order.status in TRACKED:
            await _track(ctx, order)
        elif order.status == DELIVERING:
            await _deliver(ctx, order)
        else:
            return True
    except AirbusError as exc:
        if exc.transient or exc.status in (401, 403):  # refused credentials: ours to fix, not the order's fault
            order.later(ctx.clock(), _backoff(ctx, order, ctx.rules.retry_seconds),
                        f"Airbus unavailable, trying again: {exc.reason}")
        elif order.status == DELIVERING:
            order.delivery_failed(f"Airbus did not deliver the package: {exc.reason}", ctx.clock())
        else:
            order.failed(f"Airbus refused: {exc.reason}", ctx.clock())
    except Exception as exc:  # the object store's failures say whether trying again may help
        kind = getattr(exc, "failure_kind", None)
        if kind == "transient":
            order.later(ctx.clock(), _backoff(ctx, order, ctx.rules.retry_seconds),
                        f"the object store is unavailable, trying again: {exc}")
        elif kind == "permanent" and order.status == DELIVERING:
            order.delivery_failed(f"the object store refused the package: {exc}", ctx.clock())
        else:
            raise
    if await ctx.orders.save(order):
        return True
    if order.status == PLACED and order.airbus_order_id:
        await _withdraw_if_cancelled(ctx, order.request_id, order.airbus_order_id)
    return False


async def _withdraw_if_cancelled(ctx: Provisioning, request_id: str, airbus_order_id: str) -> None:
    """An operator cancelled the order while this step placed it at Airbus: cancel it there too, or it would
    be produced and invoiced for nobody."""
    assert ctx.airbus is not None
    now = await ctx.orders.get(request_id)
    if now is not None and now.status == CANCELLED:
        try:
            await ctx.airbus.cancel(airbus_order_id)
        except AirbusError as exc:
            log.error("order %s was cancelled while Airbus order %s was placed, which Airbus did not cancel: %s",
                      now.order_id, airbus_order_id, exc.reason)


def _backoff(ctx: Provisioning, order: Order, first: float) -> datetime:
    seconds = min(first * 2 ** min(order.checks, 16), ctx.rules.poll_max_seconds)
    return ctx.clock() + timedelta(seconds=seconds)


# -- placing -----------------------------------------------------------------------------------------
async def _place(ctx: Provisioning, order: Order) -> None:
    assert ctx.airbus is not None and ctx.requests is not None
    request = await ctx.requests.get(order.request_id)
    if request is None:  # its submitted event has not reached us yet
        order.later(ctx.clock(), _backoff(ctx, order, ctx.rules.retry_seconds),
                    "waiting for the request's details")
        return
    try:
        body = request.order_body(order.feasibility_id or "")
    except ValueError as exc:  # nothing Airbus could take: an operator's business
        order.failed(f"the request cannot be ordered: {exc}", ctx.clock())
        return
    existing = await ctx.airbus.find_order(order.request_id)  # placed by a run that died before recording it
    if existing is not None:
        _placed(ctx, order, request, existing)
        return
    if request.kind == "tasking" and not order.feasibility_valid(ctx.clock()):
        feasibility = await ctx.airbus.feasibility(request.feasibility_body())
        if not feasibility.feasible:
            order.failed(f"Airbus: the tasking is not feasible ({feasibility.reason or 'no reason given'})",
                         ctx.clock())
            return
        order.feasible(feasibility.id, feasibility.expires_at, ctx.clock())
    body = request.order_body(order.feasibility_id)
    if not order.price_accepted:
        price = await ctx.airbus.price({k: v for k, v in body.items() if k != "customer_reference"})
        mismatch = price_mismatch(request.quote, price_eur=price.price, invoiced_km2=price.invoiced_km2,
                                  tolerance=ctx.rules.price_tolerance)
        if mismatch:
            order.price_mismatch(mismatch, ctx.clock())
            return
    _placed(ctx, order, request, await ctx.airbus.place_order(body))


def _placed(ctx: Provisioning, order: Order, request: RequestDetails, placed: AirbusOrder) -> None:
    now = ctx.clock()
    order.placed(kind=request.kind, airbus_order_id=placed.id, airbus_status=placed.status,
                 price_eur=placed.price if placed.price is not None else Decimal(0), at=now,
                 next_check_at=now + timedelta(seconds=ctx.rules.poll_initial_seconds))


# -- tracking ----------------------------------------------------------------------------------------
async def _track(ctx: Provisioning, order: Order) -> None:
    assert ctx.airbus is not None and order.airbus_order_id is not None
    state = await ctx.airbus.order(order.airbus_order_id)
    if state.status in ("failed", "cancelled"):
        order.failed(f"Airbus {state.status} the order" + (f": {state.failure_reason}" if state.failure_reason else ""),
                     ctx.clock())
        return
    if order.kind == "tasking":
        for a in sorted(await ctx.airbus.acquisitions(order.airbus_order_id, order.attempts_seen),
                        key=lambda a: a.attempt):
            order.acquired(a.attempt, a.outcome, a.coverage_percent, a.acquired_at)
    order.tracked(state.status, state.coverage_percent, ctx.clock(),
                  _backoff(ctx, order, ctx.rules.poll_initial_seconds))
    if order.status == DELIVERING:  # no need to wait for the next round
        order.next_check_at = ctx.clock()


# -- delivering --------------------------------------------------------------------------------------
async def _deliver(ctx: Provisioning, order: Order) -> None:
    assert ctx.airbus is not None and ctx.store is not None and ctx.reader is not None
    assert order.airbus_order_id is not None
    package = await ctx.airbus.delivery(order.airbus_order_id)
    collection = SHARED_COLLECTIONS.get(order.mission)
    try:
        if collection is None:
            raise InvalidDelivery(f"no shared collection for mission {order.mission!r}")
        files = ctx.reader.unpack(package)
        # read before storing: a package whose metadata cannot be read leaves nothing behind
        ctx.reader.item(files["metadata"].data, {r: f"s3://{BUCKET}/{r}" for r in files},
                        request_id=order.request_id, order_id=order.order_id, collection=collection)
        hrefs = {}
        for role, f in files.items():
            hrefs[role] = await ctx.store.put(BUCKET, object_key(order.mission, order.request_id, f.name), f.data,
                                              f.media_type)
        item = ctx.reader.item(files["metadata"].data, hrefs, request_id=order.request_id, order_id=order.order_id,
                               collection=collection)
    except InvalidDelivery as exc:
        order.delivery_failed(f"the delivered package cannot be read: {exc}", ctx.clock())
        return
    order.delivered(collection=collection, item=item, at=ctx.clock())
