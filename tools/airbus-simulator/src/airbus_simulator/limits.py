"""Airbus's ordering limit: one call per second per contract (``POST /orders``, ``/orders/{id}/cancel``,
``/feasibility``, ``/prices``); a faster call is refused 429 with ``Retry-After``. Every call is logged for
``GET /_simulator/orders``."""

from __future__ import annotations

import math
from datetime import datetime

from airbus_simulator.clock import Clock, iso
from airbus_simulator.errors import Refused


class OrderingLimit:
    def __init__(self, clock: Clock, interval: float, tolerance: float, log: list[str]) -> None:
        self.clock, self.interval, self.tolerance, self.log = clock, interval, tolerance, log
        self.last: datetime | None = None

    def take(self) -> None:
        """Logs the call, then refuses it if it comes less than the interval after the last one let through."""
        now = self.clock.now()
        self.log.append(iso(now))
        if self.last is not None:
            wait = self.interval - (now - self.last).total_seconds()
            if wait > self.tolerance:
                raise Refused("rate_limited", f"at most one ordering call per {self.interval:g} s", 429,
                              {"Retry-After": str(max(1, math.ceil(wait)))})
        self.last = now
