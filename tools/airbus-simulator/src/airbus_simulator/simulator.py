"""What the simulated Airbus does, transport aside: tokens, contract, prices, feasibility, orders and their
notifications. The HTTP routes (``app.py``) only translate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from airbus_simulator import geo
from airbus_simulator.clock import Clock, iso, parse
from airbus_simulator.errors import NotFound, Refused
from airbus_simulator.notifier import Notifier
from airbus_simulator.orders import ACTIVE, Order, platform, weather_plan
from airbus_simulator.schemas import FeasibilityBody, OrderBody, Window
from airbus_simulator.settings import Settings
from airbus_simulator.store import Store

MAX_ARCHIVE_ITEMS = 5
MODE_WINDOW_HOURS = {"mono": 24, "stereo": 48, "tristereo": 72}  # the shortest window each mode needs


class Simulator:
    def __init__(self, settings: Settings, clock: Clock, store: Store, notifier: Notifier) -> None:
        self.settings, self.clock, self.store, self.notifier = settings, clock, store, notifier
        self._token_key = hashlib.sha256(b"".join(k.get_secret_value().encode() for k in settings.api_keys)
                                         + b"airbus-simulator-tokens").digest()

    # --- tokens: signed, so that they outlive a restart -------------------------------------------
    def token(self, apikey: str) -> dict[str, Any]:
        if not any(hmac.compare_digest(apikey, k.get_secret_value()) for k in self.settings.api_keys):
            raise Refused("invalid_api_key", "unknown API key", 401)
        expires = int(self.clock.now().timestamp()) + self.settings.token_seconds
        claim = f"{expires}.{uuid.uuid4().hex}"
        sig = hmac.new(self._token_key, claim.encode(), hashlib.sha256).digest()
        token = base64.urlsafe_b64encode(claim.encode()).decode() + "." + base64.urlsafe_b64encode(sig).decode()
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.settings.token_seconds}

    def authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            claim_b64, sig_b64 = token.split(".")
            claim = base64.urlsafe_b64decode(claim_b64)
            good = hmac.compare_digest(base64.urlsafe_b64decode(sig_b64),
                                       hmac.new(self._token_key, claim, hashlib.sha256).digest())
            expires = int(claim.split(b".")[0])
        except (ValueError, TypeError):
            good, expires = False, 0
        if scheme.lower() != "bearer" or not good:
            raise Refused("invalid_token", "a valid bearer token is needed", 401)
        if expires <= self.clock.now().timestamp():
            raise Refused("token_expired", "the token has expired", 401)

    # --- contract and prices ----------------------------------------------------------------------
    def contracts(self) -> dict[str, Any]:
        s = self.settings
        return {"items": [{"id": s.contract_id, "backend": "legacy", "currency": "EUR",
                           "remaining_credit": str(self.remaining_credit()), "missions": sorted(s.tariff.rates)}]}

    def remaining_credit(self) -> Decimal:
        spent = sum((Decimal(o.price) for o in self.store.orders.values() if o.cancelled_at is None), Decimal(0))
        return (self.settings.credit - spent).quantize(Decimal("0.01"))

    def price(self, body: OrderBody) -> dict[str, Any]:
        area = geo.area_km2(self._rings(body))
        tariff = self.settings.tariff
        invoiced = max(area, tariff.minimum_km2.get(body.kind, 0.0))
        rate = getattr(tariff.rates[body.mission], body.kind)
        factor = tariff.mode_factor.get(body.mode, 1)
        amount = (Decimal(str(round(invoiced, 6))) * rate * factor).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return {"price": str(amount), "currency": "EUR", "area_km2": round(area, 3), "invoiced_km2": round(invoiced, 3)}

    def _rings(self, body: OrderBody) -> list[list[tuple[float, float]]]:
        if body.kind == "archive":
            if not body.items or len(body.items) > MAX_ARCHIVE_ITEMS:
                raise Refused("invalid_items", f"an archive order has 1 to {MAX_ARCHIVE_ITEMS} scene/area pairs")
            return [r for item in body.items for r in geo.rings(item.aoi, multi=False)]
        if body.aoi is None:
            raise Refused("invalid_aoi", "a tasking order needs its area of interest (aoi)")
        return geo.rings(body.aoi, multi=True)

    # --- feasibility ------------------------------------------------------------------------------
    def feasibility(self, body: FeasibilityBody) -> dict[str, Any]:
        area = geo.area_km2(geo.rings(body.aoi, multi=True))
        now = self.clock.now()
        reason = self._infeasible(body.window, body.mode)
        answer: dict[str, Any] = {
            "id": f"FEA-{uuid.uuid4().hex[:12].upper()}", "feasible": reason is None, "mission": body.mission,
            "automation": "MANUAL" if area > 1000 else "AUTOMATIC",
            "classification": "CHALLENGING" if (body.max_cloud_cover or 100) < 10
            or (body.max_incidence_angle or 90) < 15 or body.window.end - body.window.start < timedelta(days=7)
            else "EASY",
            "expires_at": iso(now + timedelta(seconds=self.settings.feasibility_seconds)),
            "window": {"start": iso(body.window.start), "end": iso(body.window.end)}, "mode": body.mode}
        if reason:
            answer["reason"] = reason
        self.store.feasibilities[answer["id"]] = answer
        self.store.save()
        return answer

    def _infeasible(self, window: Window, mode: str) -> str | None:
        now = self.clock.now()
        start, end = (t if t.tzinfo else t.replace(tzinfo=now.tzinfo) for t in (window.start, window.end))
        lead = self.settings.feasibility_lead_hours
        if end <= now:
            return "the window ends in the past"
        if start < now + timedelta(hours=lead):
            return f"the window starts less than {lead:g} h ahead"
        if end - start < timedelta(hours=MODE_WINDOW_HOURS[mode]):
            return f"a {mode} acquisition needs a window of at least {MODE_WINDOW_HOURS[mode]} h"
        return None

    # --- orders -----------------------------------------------------------------------------------
    def place(self, body: OrderBody) -> Order:
        priced = self.price(body)
        now = self.clock.now()
        if body.kind == "tasking":
            self._check_feasibility(body)
        if Decimal(priced["price"]) > self.remaining_credit():
            raise Refused("insufficient_credit", "the contract's remaining credit does not cover this order")
        s = self.settings
        order_id = f"ORD-{uuid.uuid4().hex[:12].upper()}"
        plan = [] if body.kind == "archive" else weather_plan(
            order_id, [a.model_dump() for a in s.weather], s.weather_random, s.seed, s.weather_cloudy_share,
            s.weather_max_attempts)
        order = Order(id=order_id, customer_reference=body.customer_reference, kind=body.kind, mission=body.mission,
                      platform=platform(body.mission, order_id), created_at=now, price=priced["price"],
                      area_km2=priced["area_km2"], invoiced_km2=priced["invoiced_km2"],
                      body=body.model_dump(mode="json", exclude_none=True),
                      delays={"received": s.received_seconds, "attempt": s.attempt_seconds,
                              "production": s.production_seconds}, plan=plan)
        self.store.orders[order.id] = order
        self.store.save()
        return order

    def _check_feasibility(self, body: OrderBody) -> None:
        answer = self.store.feasibilities.get(body.feasibility_id or "")
        if answer is None:
            raise Refused("unknown_feasibility", "a tasking order needs the id of a feasibility answer")
        if not answer["feasible"]:
            raise Refused("not_feasible", f"the feasibility answer was negative: {answer.get('reason')}")
        if parse(answer["expires_at"]) <= self.clock.now():
            raise Refused("feasibility_expired", "the feasibility answer has expired: ask again")
        if answer["mission"] != body.mission:
            raise Refused("feasibility_mismatch", "the feasibility answer is for another mission")

    def order(self, order_id: str) -> Order:
        if (order := self.store.orders.get(order_id)) is None:
            raise NotFound(f"order {order_id}")
        return order

    def by_reference(self, reference: str) -> list[Order]:
        return sorted((o for o in self.store.orders.values() if o.customer_reference == reference),
                      key=lambda o: o.created_at)

    def cancel(self, order_id: str) -> Order:
        order = self.order(order_id)
        now = self.clock.now()
        if order.status(now) == "cancelled":
            return order
        if order.status(now) not in ACTIVE:
            raise Refused("not_cancellable", f"an order in {order.status(now)} can no longer be cancelled", 409)
        order.cancelled_at = now
        self.store.save()
        return order

    # --- notifications: what happened since the last look -------------------------------------------
    def tick(self) -> int:
        now, sent = self.clock.now(), 0
        for order in list(self.store.orders.values()):
            happened = order.happened(now)
            for event in happened[order.notified:]:
                self.notifier.notify({"order_id": order.id, "customer_reference": order.customer_reference,
                                      "status": event.status, "event": event.event, "at": iso(event.at)})
                sent += 1
            order.notified = max(order.notified, len(happened))
        if sent:
            self.store.save()
        return sent

    def log(self) -> dict[str, Any]:
        now = self.clock.now()
        counts: dict[str, int] = {}
        for o in self.store.orders.values():
            counts[o.customer_reference or ""] = counts.get(o.customer_reference or "", 0) + 1
        orders = sorted(self.store.orders.values(), key=lambda o: o.created_at)
        return {"by_customer_reference": counts, "orders": [o.public(now) for o in orders],
                "ordering_calls": list(self.store.ordering_calls)}
