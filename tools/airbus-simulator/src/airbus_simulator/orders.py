"""An order and its life. The life is a function of the time elapsed since the order was placed (and of its
cancellation): reading an order at time ``t`` gives its state at ``t``, so a restart, or a test's fake
clock, finds every order where its delays put it."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airbus_simulator.clock import iso, parse

ACTIVE = ("received", "acquiring")  # cancellable


@dataclass(frozen=True)
class Event:
    at: datetime
    event: str  # "status" | "acquisition"
    status: str  # the order's status once this happened
    attempt: dict[str, Any] | None = None


@dataclass
class Order:
    id: str
    customer_reference: str | None
    kind: str  # archive | tasking
    mission: str  # PLEIADES | SPOT
    platform: str  # PHR | SPOT6 | SPOT7
    created_at: datetime
    price: str
    area_km2: float
    invoiced_km2: float
    body: dict[str, Any]  # the order as received
    delays: dict[str, float]  # received, attempt, production (seconds), fixed when placed
    plan: list[dict[str, Any]] = field(default_factory=list)  # tasking: outcome, coverage_percent per attempt
    cancelled_at: datetime | None = None
    notified: int = 0  # how many of ``events()`` were notified

    # --- the life -------------------------------------------------------------------------------
    def events(self) -> list[Event]:
        """Every change after ``received``, in time order, up to the end (delivered, failed, cancelled)."""
        seconds = self.delays
        t = self.created_at + timedelta(seconds=seconds["received"])
        out: list[Event] = []
        if self.kind == "tasking":
            out.append(Event(t, "status", "acquiring"))
            for n, attempt in enumerate(self.plan, start=1):
                at = t + timedelta(seconds=seconds["attempt"] * n)
                out.append(Event(at, "acquisition", "acquiring", {"attempt": n, "acquired_at": iso(at), **attempt}))
            t += timedelta(seconds=seconds["attempt"] * len(self.plan))
            covered = self.plan[-1]["coverage_percent"] if self.plan else 0.0
            if covered < 100:
                out.append(Event(t, "status", "failed"))
                return self._until_cancelled(out)
        out.append(Event(t, "status", "production"))
        out.append(Event(t + timedelta(seconds=seconds["production"]), "status", "delivered"))
        return self._until_cancelled(out)

    def _until_cancelled(self, events: list[Event]) -> list[Event]:
        if self.cancelled_at is None:
            return events
        return [e for e in events if e.at < self.cancelled_at] + [Event(self.cancelled_at, "status", "cancelled")]

    def happened(self, now: datetime) -> list[Event]:
        return [e for e in self.events() if e.at <= now]

    def status(self, now: datetime) -> str:
        past = [e for e in self.happened(now) if e.event == "status"]
        return past[-1].status if past else "received"

    def acquisitions(self, now: datetime) -> list[dict[str, Any]]:
        return [e.attempt for e in self.happened(now) if e.attempt is not None]

    def coverage(self, now: datetime) -> float:
        if self.kind == "archive":
            return 100.0  # the scene exists
        attempts = self.acquisitions(now)
        return attempts[-1]["coverage_percent"] if attempts else 0.0

    def failure_reason(self, now: datetime) -> str | None:
        if self.status(now) != "failed":
            return None
        return (f"the tasking window closed after {len(self.plan)} attempts with "
                f"{self.coverage(now):g} % of the area covered")

    def acquired_at(self) -> datetime:
        """When the delivered image was taken: the last attempt (tasking) or the archive scene's date."""
        if self.kind == "tasking" and self.plan:
            d = self.delays
            return self.created_at + timedelta(seconds=d["received"] + d["attempt"] * len(self.plan))
        days = 3 + int(digest(self.id, "scene") * 300)
        return (self.created_at - timedelta(days=days)).replace(hour=10, minute=30, second=0, microsecond=0)

    def public(self, now: datetime) -> dict[str, Any]:
        happened = self.happened(now)
        return {"id": self.id, "customer_reference": self.customer_reference, "kind": self.kind,
                "mission": self.mission, "status": self.status(now), "created_at": iso(self.created_at),
                "updated_at": iso(happened[-1].at if happened else self.created_at), "price": self.price,
                "currency": "EUR", "area_km2": round(self.area_km2, 3), "invoiced_km2": round(self.invoiced_km2, 3),
                "coverage_percent": self.coverage(now), "failure_reason": self.failure_reason(now),
                **{k: self.body[k] for k in ("items", "aoi", "feasibility_id", "window", "mode") if k in self.body}}

    # --- storage --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "customer_reference": self.customer_reference, "kind": self.kind,
                "mission": self.mission, "platform": self.platform, "created_at": iso(self.created_at),
                "price": self.price, "area_km2": self.area_km2, "invoiced_km2": self.invoiced_km2, "body": self.body,
                "delays": self.delays, "plan": self.plan, "notified": self.notified,
                "cancelled_at": iso(self.cancelled_at) if self.cancelled_at else None}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Order:
        return cls(**{**doc, "created_at": parse(doc["created_at"]),
                      "cancelled_at": parse(doc["cancelled_at"]) if doc.get("cancelled_at") else None})


def weather_plan(order_id: str, sequence: list[dict[str, Any]], randomly: bool, seed: int, cloudy_share: float,
                 max_attempts: int) -> list[dict[str, Any]]:
    """A tasking's attempts: the configured sequence, or drawn from the seed and the order id (each cloudy
    attempt adds some coverage, a clear one completes it; after ``max_attempts`` the window is closed)."""
    if not randomly:
        return [dict(a) for a in sequence]
    rng = random.Random(f"{seed}:{order_id}")  # noqa: S311 - a simulation, not a secret
    plan, covered = [], 0.0
    for _ in range(max_attempts):
        if rng.random() < cloudy_share:
            covered = min(99.0, round(covered + rng.uniform(10, 60), 1))
            plan.append({"outcome": "cloudy", "coverage_percent": covered})
        else:
            plan.append({"outcome": "acquired", "coverage_percent": 100.0})
            break
    return plan


def platform(mission: str, order_id: str) -> str:
    if mission == "PLEIADES":
        return "PHR"
    return "SPOT6" if digest(order_id, "platform") < 0.5 else "SPOT7"


def digest(order_id: str, purpose: str) -> float:
    """A number in [0, 1) fixed by the order id: the same order always gets the same simulated facts."""
    return int.from_bytes(hashlib.sha256(f"{purpose}:{order_id}".encode()).digest()[:8], "big") / 2**64
