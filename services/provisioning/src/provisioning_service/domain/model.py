"""The order of an accepted request, from its recording to its delivery (issue 12, "The flow").

States: ``recorded`` (waiting for a confirmation) → ``confirmed`` (due for placing) → ``placed``
(Airbus took it) → ``acquiring`` (tasking: attempts under way) → ``production`` → ``delivering``
(Airbus delivered: the package is being stored and described) → ``delivered``. Beside the way:
``held`` (an operator's hold, or a price that does not match the quote: the reason says which),
``failed`` (with its reason: a failure Airbus made final is announced and ends the order; a delivery
that could not be read is not announced and an operator may retry it) and ``cancelled``.

Each change is a method that raises :class:`OrderNotAllowed` (HTTP 409) when the state does not allow it,
and appends the event to announce, if any. The worker's steps and the operators' actions all go through
these methods; the repository stores the new state with its events in one write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ORDERABLE_DECISIONS = frozenset({"accepted", "accepted-partially"})

RECORDED, CONFIRMED, PLACED, ACQUIRING, PRODUCTION, DELIVERING, DELIVERED = (
    "recorded", "confirmed", "placed", "acquiring", "production", "delivering", "delivered")
HELD, FAILED, CANCELLED = "held", "failed", "cancelled"
STATES = (RECORDED, CONFIRMED, PLACED, ACQUIRING, PRODUCTION, DELIVERING, DELIVERED, HELD, FAILED, CANCELLED)
TRACKED = (PLACED, ACQUIRING, PRODUCTION)  # Airbus is working on it: polled
WORKED = (CONFIRMED, *TRACKED, DELIVERING)  # the worker drives these when they are due
BEFORE_PLACING = (RECORDED, CONFIRMED, HELD)

# Airbus order status -> the state it puts our order in
AIRBUS_STATES = {"received": PLACED, "acquiring": ACQUIRING, "production": PRODUCTION, "delivered": DELIVERING}


class OrderNotAllowed(Exception):
    """What was asked cannot be done to the order in its state (the message says why)."""


class OrderNotFound(Exception):
    pass


# -- events ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderRecorded:
    order_id: str
    request_id: str
    mission: str
    cell: str
    area_km2: float
    recorded_at: datetime


@dataclass(frozen=True)
class OrderPlaced:
    order_id: str
    request_id: str
    mission: str
    cell: str
    kind: str
    airbus_order_id: str
    price_eur: Decimal
    area_km2: float
    placed_at: datetime


@dataclass(frozen=True)
class OrderFailed:
    order_id: str
    request_id: str
    cell: str
    reason: str
    failed_at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    request_id: str
    cell: str
    reason: str
    cancelled_at: datetime


@dataclass(frozen=True)
class AcquisitionProgressed:
    order_id: str
    request_id: str
    attempt: int
    outcome: str
    coverage_percent: float
    acquired_at: datetime


@dataclass(frozen=True)
class DeliveryCompleted:
    order_id: str
    request_id: str
    mission: str
    cell: str
    collection: str
    item: dict
    ordered_km2: float
    delivered_km2: float
    delivered_at: datetime


# -- the aggregate ---------------------------------------------------------------------------------
@dataclass
class Order:
    request_id: str
    order_id: str
    mission: str
    cell: str
    area_km2: float
    recorded_at: datetime
    status: str = RECORDED
    version: int = 0  # as stored (0: new)
    kind: str | None = None
    reason: str | None = None  # why it is held or failed
    announced_failure: bool = False  # a failure announced (final); otherwise an operator may retry
    resume: str | None = None  # the state a retry (failed) or a confirmation (held) goes back to
    price_accepted: bool = False  # an operator confirmed it despite the price check
    feasibility_id: str | None = None
    feasibility_expires_at: datetime | None = None
    airbus_order_id: str | None = None
    airbus_status: str | None = None
    price_eur: str | None = None
    coverage_percent: float | None = None
    attempts_seen: int = 0
    next_check_at: datetime | None = None
    checks: int = 0  # polls in a row that saw no change (the backoff's exponent)
    item_id: str | None = None
    delivered_km2: float | None = None
    updated_at: datetime | None = None
    events: list[object] = field(default_factory=list, repr=False)

    @classmethod
    def for_decision(cls, *, decision: str, request_id: str, order_id: str, mission: str, cell: str,
                     area_km2: float, at: datetime) -> Order | None:
        if decision not in ORDERABLE_DECISIONS:
            return None
        order = cls(request_id, order_id, mission, cell, area_km2, at, updated_at=at)
        order.events.append(OrderRecorded(order_id, request_id, mission, cell, area_km2, at))
        return order

    # -- what operators may do -------------------------------------------------------------------
    def allowed_actions(self) -> list[str]:
        actions = []
        if self.status in (RECORDED, HELD):
            actions.append("confirm")
        if self.status in (RECORDED, CONFIRMED):
            actions.append("hold")
        retryable = self.status == FAILED and not self.announced_failure
        if self.status in (*BEFORE_PLACING, PLACED, ACQUIRING) or retryable:
            actions.append("cancel")
        if retryable:
            actions.append("retry")
        return actions

    def _check(self, action: str) -> None:
        if action not in self.allowed_actions():
            detail = f" ({self.reason})" if self.reason else ""
            raise OrderNotAllowed(f"order {self.order_id} is {self.status}{detail}: it cannot be {_PAST[action]}")

    def confirm(self, at: datetime) -> None:
        """An operator (or the auto-confirmation rule) lets it be placed; confirming an order held for its
        price accepts that price."""
        self._check("confirm")
        if self.status == HELD and self.resume == "price":
            self.price_accepted = True
        self._move(CONFIRMED, at, due=at)
        self.reason, self.resume = None, None

    def hold(self, reason: str, at: datetime) -> None:
        self._check("hold")
        self._move(HELD, at)
        self.reason, self.resume = reason, None

    def cancel(self, reason: str, at: datetime) -> None:
        """Before Airbus delivers (the caller cancels the Airbus order first once placed)."""
        self._check("cancel")
        self._move(CANCELLED, at)
        self.reason = reason
        self.events.append(OrderCancelled(self.order_id, self.request_id, self.cell, reason, at))

    def retry(self, at: datetime) -> None:
        self._check("retry")
        self._move(self.resume or CONFIRMED, at, due=at)
        self.reason, self.resume = None, None

    # -- the worker's steps ----------------------------------------------------------------------
    def price_mismatch(self, reason: str, at: datetime) -> None:
        """The price Airbus asks does not match the frozen quote: held for an operator."""
        self._require(CONFIRMED)
        self._move(HELD, at)
        self.reason, self.resume = reason, "price"

    def feasible(self, feasibility_id: str, expires_at: datetime | None, at: datetime) -> None:
        self._require(CONFIRMED)
        self.feasibility_id, self.feasibility_expires_at, self.updated_at = feasibility_id, expires_at, at

    def feasibility_valid(self, now: datetime) -> bool:
        """A feasibility answer that Airbus still honours (asked again once expired, e.g. after a hold)."""
        return self.feasibility_id is not None and (self.feasibility_expires_at is None
                                                    or self.feasibility_expires_at > now)

    def placed(self, *, kind: str, airbus_order_id: str, airbus_status: str, price_eur: Decimal, at: datetime,
               next_check_at: datetime) -> None:
        self._require(CONFIRMED)
        self.kind, self.airbus_order_id, self.price_eur = kind, airbus_order_id, str(price_eur)
        self._move(PLACED, at, due=next_check_at)
        self.airbus_status, self.reason = airbus_status, None
        self.events.append(OrderPlaced(self.order_id, self.request_id, self.mission, self.cell, kind, airbus_order_id,
                                       price_eur, self.area_km2, at))

    def tracked(self, airbus_status: str, coverage_percent: float | None, at: datetime,
                next_check_at: datetime) -> None:
        """What Airbus says of the order now; ``delivered`` moves it to ``delivering``."""
        self._require(*TRACKED)
        changed = airbus_status != self.airbus_status or coverage_percent != self.coverage_percent
        self.airbus_status, self.reason = airbus_status, None
        if coverage_percent is not None:
            self.coverage_percent = coverage_percent
        self.checks = 0 if changed else self.checks + 1
        target = AIRBUS_STATES.get(airbus_status, self.status)
        self._move(target, at, due=at if target == DELIVERING else next_check_at)

    def acquired(self, attempt: int, outcome: str, coverage_percent: float, acquired_at: datetime) -> None:
        """One acquisition attempt, announced once (attempts already seen are ignored)."""
        self._require(*TRACKED)
        if attempt <= self.attempts_seen:
            return
        self.attempts_seen = attempt
        self.coverage_percent = coverage_percent
        if outcome not in ("acquired", "cloudy"):
            outcome = "failed"
        self.events.append(AcquisitionProgressed(self.order_id, self.request_id, attempt, outcome, coverage_percent,
                                                 acquired_at))

    def delivered(self, *, collection: str, item: dict, at: datetime) -> None:
        self._require(DELIVERING)
        covered = 100.0 if self.kind != "tasking" or self.coverage_percent is None else self.coverage_percent
        self.delivered_km2 = round(self.area_km2 * min(max(covered, 0.0), 100.0) / 100.0, 6)
        self.item_id = item.get("id")
        self._move(DELIVERED, at)
        self.reason = None
        self.events.append(DeliveryCompleted(self.order_id, self.request_id, self.mission, self.cell, collection, item,
                                             self.area_km2, self.delivered_km2, at))

    def delivery_failed(self, reason: str, at: datetime) -> None:
        """The package cannot be stored or read: nothing is announced, an operator may retry."""
        self._require(DELIVERING)
        self._move(FAILED, at)
        self.reason, self.resume, self.announced_failure = reason, DELIVERING, False

    def failed(self, reason: str, at: datetime) -> None:
        """A final failure (feasibility refused, Airbus refused or failed the order): announced, the hold
        of its quota is released downstream."""
        self._require(*WORKED)
        self._move(FAILED, at)
        self.reason, self.resume, self.announced_failure = reason, None, True
        self.events.append(OrderFailed(self.order_id, self.request_id, self.cell, reason, at))

    def later(self, at: datetime, next_check_at: datetime, reason: str | None = None) -> None:
        """Nothing could be done now (Airbus unavailable, the request not known yet): look again later."""
        self._require(*WORKED)
        self.checks += 1
        self.next_check_at, self.updated_at = next_check_at, at
        self.reason = reason

    # -- helpers -----------------------------------------------------------------------------------
    @property
    def due(self) -> bool:
        return self.status in WORKED

    def _require(self, *states: str) -> None:
        if self.status not in states:
            raise OrderNotAllowed(f"order {self.order_id} is {self.status}, not {' or '.join(states)}")

    def _move(self, status: str, at: datetime, due: datetime | None = None) -> None:
        if status != self.status:
            self.checks = 0
        self.status, self.updated_at = status, at
        self.next_check_at = due if status in WORKED else None


_PAST = {"confirm": "confirmed", "hold": "held", "cancel": "cancelled", "retry": "retried"}
