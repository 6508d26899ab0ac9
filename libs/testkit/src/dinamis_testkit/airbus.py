"""An in-memory Airbus (the provisioning port ``provisioning_service.service_layer.airbus_port.Airbus``)
for unit tests of the provisioning flow: orders live in a dict, their lives are moved by the test
(:meth:`FakeAirbus.advance`, :meth:`FakeAirbus.acquire`), and failures are scripted (:meth:`FakeAirbus.fail_next`).

It keeps the promise of the real connector: ``place_order`` looks the customer reference up first, so
``created`` counts one order per reference however often it is called."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from provisioning_service.service_layer.airbus_port import (
    Acquisition,
    AirbusError,
    AirbusOrder,
    Feasibility,
    Price,
)


class FakeAirbus:
    def __init__(self, *, price_per_km2: Decimal = Decimal("10.00"), area_km2: float = 30.0,
                 remaining_credit: Decimal = Decimal("250000.00"), feasible: bool = True,
                 package: bytes | None = None) -> None:
        self.price_per_km2 = price_per_km2
        self.area_km2 = area_km2
        self.remaining_credit = remaining_credit
        self.feasible = feasible
        self.package = package
        self.orders: dict[str, AirbusOrder] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.created: Counter[str] = Counter()  # orders created per customer reference
        self.calls: list[str] = []
        self._acquisitions: dict[str, list[Acquisition]] = defaultdict(list)
        self._failures: dict[str, list[AirbusError]] = defaultdict(list)
        self._ids = itertools.count(1)

    # -- scripting -------------------------------------------------------------------------------
    def fail_next(self, call: str, *, reason: str = "Airbus is unavailable", transient: bool = True,
                  times: int = 1) -> None:
        """The next ``times`` calls of ``call`` (a method name, e.g. ``"place_order"``) raise AirbusError."""
        self._failures[call] += [AirbusError(reason, transient) for _ in range(times)]

    def advance(self, order_id: str, status: str, *, failure_reason: str | None = None,
                coverage_percent: float | None = None) -> AirbusOrder:
        o = self.orders[order_id]
        changes: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
        if failure_reason is not None:
            changes["failure_reason"] = failure_reason
        if coverage_percent is not None:
            changes["coverage_percent"] = coverage_percent
        self.orders[order_id] = o = AirbusOrder(**{**o.__dict__, **changes})
        return o

    def acquire(self, order_id: str, *, outcome: str = "acquired", coverage_percent: float = 100.0) -> Acquisition:
        attempts = self._acquisitions[order_id]
        a = Acquisition(len(attempts) + 1, datetime.now(UTC), outcome, coverage_percent)
        attempts.append(a)
        self.advance(order_id, "acquiring", coverage_percent=coverage_percent)
        return a

    def _enter(self, call: str) -> None:
        self.calls.append(call)
        if self._failures[call]:
            raise self._failures[call].pop(0)

    def _get(self, order_id: str) -> AirbusOrder:
        if order_id not in self.orders:
            raise AirbusError(f"order {order_id} not found", transient=False, status=404)
        return self.orders[order_id]

    # -- the port --------------------------------------------------------------------------------
    async def contract(self) -> dict[str, Any]:
        self._enter("contract")
        return {"id": "CTR-1", "backend": "legacy", "currency": "EUR", "remaining_credit": self.remaining_credit,
                "missions": ["PLEIADES", "SPOT"]}

    async def price(self, order: dict[str, Any]) -> Price:
        self._enter("price")
        minimum = 100.0 if order.get("kind") == "tasking" else 25.0
        invoiced = max(self.area_km2, minimum)
        return Price((self.price_per_km2 * Decimal(str(invoiced))).quantize(Decimal("0.01")), self.area_km2, invoiced)

    async def feasibility(self, tasking: dict[str, Any]) -> Feasibility:
        self._enter("feasibility")
        n = next(self._ids)
        return Feasibility(f"FEA-{n}", self.feasible, "AUTOMATIC", "EASY", datetime.now(UTC) + timedelta(days=2),
                           None if self.feasible else "the window cannot be acquired")

    async def find_order(self, customer_reference: str) -> AirbusOrder | None:
        self._enter("find_order")
        return next((o for o in self.orders.values() if o.customer_reference == customer_reference), None)

    async def place_order(self, order: dict[str, Any]) -> AirbusOrder:
        self._enter("place_order")
        ref = order["customer_reference"]
        found = next((o for o in self.orders.values() if o.customer_reference == ref), None)
        if found is not None:
            return found
        oid = f"ORD-{next(self._ids)}"
        price = await self.price(order)
        self.orders[oid] = AirbusOrder(oid, ref, order["kind"], order["mission"], "received", price.price,
                                       price.area_km2, 0.0, None, datetime.now(UTC))
        self.bodies[oid] = order
        self.created[ref] += 1
        return self.orders[oid]

    async def order(self, order_id: str) -> AirbusOrder:
        self._enter("order")
        return self._get(order_id)

    async def acquisitions(self, order_id: str, since: int = 0) -> list[Acquisition]:
        self._enter("acquisitions")
        self._get(order_id)
        return [a for a in self._acquisitions[order_id] if a.attempt > since]

    async def delivery(self, order_id: str) -> bytes:
        self._enter("delivery")
        o = self._get(order_id)
        if o.status != "delivered":
            raise AirbusError(f"order {order_id} is {o.status}, not delivered", transient=False, status=409)
        if self.package is not None:
            return self.package
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"DIM_{o.mission}_{o.id}.XML", "<Dimap_Document/>")
        return buf.getvalue()

    async def cancel(self, order_id: str) -> AirbusOrder:
        self._enter("cancel")
        o = self._get(order_id)
        if o.status not in ("received", "acquiring"):
            raise AirbusError(f"order {order_id} is {o.status} and can no longer be cancelled", transient=False,
                              status=409)
        return self.advance(order_id, "cancelled")
