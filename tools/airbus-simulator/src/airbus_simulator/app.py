"""The HTTP face of the simulator: the routes of docs/airbus-api.md and its own ``/_simulator`` ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from airbus_simulator import package
from airbus_simulator.clock import Clock, SystemClock
from airbus_simulator.errors import Refused
from airbus_simulator.faults import Fault, Faults
from airbus_simulator.limits import OrderingLimit
from airbus_simulator.notifier import Notifier
from airbus_simulator.schemas import FaultsBody, FeasibilityBody, OrderBody
from airbus_simulator.settings import Settings
from airbus_simulator.simulator import Simulator
from airbus_simulator.store import Store

log = logging.getLogger("airbus_simulator")
Authorization = Annotated[str | None, Header()]


def create_app(settings: Settings, clock: Clock | None = None, notifier: Notifier | None = None) -> FastAPI:
    clock = clock or SystemClock()
    store = Store(settings.state_dir).load()
    notifier = notifier or Notifier(settings.callback_url, settings.notification_secret.get_secret_value(),
                                    settings.notification_attempts, settings.notification_backoff_seconds)
    sim = Simulator(settings, clock, store, notifier)
    faults = Faults(dict(settings.faults), settings.seed)
    limit = OrderingLimit(clock, settings.ordering_interval_seconds, settings.ordering_tolerance_seconds,
                          store.ordering_calls)
    building: dict[str, asyncio.Lock] = {}
    damaged = {"packages": settings.corrupt_packages}  # PUT /_simulator/faults changes it

    async def gate(authorization: str | None, ordering: bool = False, token: bool = False) -> Fault | None:
        """Authentication, the ordering limit, then the injected faults; a time-out is the caller's to play."""
        if not token:
            sim.authenticate(authorization)
        if ordering:
            try:
                limit.take()
            finally:
                store.save()
        fault = faults.draw()
        if fault == "5xx":
            raise Refused("unavailable", "simulated server failure", 503)
        if fault == "429":
            raise Refused("rate_limited", "simulated throttling", 429, {"Retry-After": "1"})
        return fault

    async def hold(fault: Fault | None) -> None:
        """A time-out fault: no answer for ``timeout_hold_seconds`` (the caller gave up long before)."""
        if fault == "timeout":
            await asyncio.sleep(settings.timeout_hold_seconds)
            raise Refused("timeout", "simulated time-out", 504)

    api = APIRouter(prefix="/api/v1")

    @api.post("/auth/token")
    async def token(request: Request) -> dict[str, Any]:
        form = parse_qs((await request.body())[:4096].decode(errors="replace"))
        await hold(await gate(None, token=True))
        return sim.token((form.get("apikey") or [""])[0])

    @api.get("/contracts")
    async def contracts(authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization))
        return sim.contracts()

    @api.post("/prices")
    async def prices(body: OrderBody, authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization, ordering=True))
        return sim.price(body)

    @api.post("/feasibility")
    async def feasibility(body: FeasibilityBody, authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization, ordering=True))
        return sim.feasibility(body)

    @api.post("/orders", status_code=201)
    async def place(body: OrderBody, authorization: Authorization = None) -> dict[str, Any]:
        fault = await gate(authorization, ordering=True)
        order = sim.place(body)  # a time-out fault places the order, then never answers
        await hold(fault)
        return order.public(clock.now())

    @api.get("/orders")
    async def find(customer_reference: Annotated[str, Query(max_length=200)],
                   authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization))
        return {"items": [o.public(clock.now()) for o in sim.by_reference(customer_reference)]}

    @api.get("/orders/{order_id}")
    async def read(order_id: str, authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization))
        return sim.order(order_id).public(clock.now())

    @api.get("/orders/{order_id}/acquisitions")
    async def acquisitions(order_id: str, since: Annotated[int, Query(ge=0)] = 0,
                           authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization))
        return {"items": [a for a in sim.order(order_id).acquisitions(clock.now()) if a["attempt"] > since]}

    @api.get("/orders/{order_id}/delivery", response_model=None)
    async def delivery(order_id: str, authorization: Authorization = None) -> Response:
        await hold(await gate(authorization))
        order = sim.order(order_id)
        if (status := order.status(clock.now())) != "delivered":
            raise Refused("not_delivered", f"the order is {status}: there is no package yet", 409)
        async with building.setdefault(order.id, asyncio.Lock()):
            path = await asyncio.to_thread(package.build, order, settings.state_dir / "packages")
        if damaged["packages"]:  # the first half of the zip: its central directory is missing
            content = path.read_bytes()
            return Response(content[: len(content) // 2], media_type="application/zip",
                            headers={"Content-Disposition": f'attachment; filename="{order.id}.zip"'})
        return FileResponse(path, media_type="application/zip", filename=f"{order.id}.zip")

    @api.post("/orders/{order_id}/cancel")
    async def cancel(order_id: str, authorization: Authorization = None) -> dict[str, Any]:
        await hold(await gate(authorization, ordering=True))
        return sim.cancel(order_id).public(clock.now())

    own = APIRouter(prefix="/_simulator", tags=["simulator"])

    @own.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @own.get("/orders")
    async def orders_log() -> dict[str, Any]:
        return sim.log()

    @own.put("/faults")
    async def set_faults(body: FaultsBody) -> dict[str, Any]:
        shares = {k: v for k, v in {"5xx": body.server_error, "timeout": body.timeout, "429": body.too_many}.items()
                  if v}
        try:
            faults.set(shares, body.seed)
        except ValueError as e:
            raise Refused("invalid_faults", str(e)) from None
        damaged["packages"] = body.corrupt_packages
        return {"faults": shares, "seed": body.seed, "corrupt_packages": body.corrupt_packages}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async def ticking() -> None:
            while True:
                try:
                    sim.tick()
                except Exception:
                    log.exception("lifecycle tick failed")
                await asyncio.sleep(settings.tick_seconds)

        ticker = asyncio.create_task(ticking())
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await notifier.close()

    app = FastAPI(title="Airbus simulator", description="docs/airbus-api.md; development, demos and tests only",
                  lifespan=lifespan)
    app.include_router(api)
    app.include_router(own)
    app.state.simulator = sim  # for tests that look inside

    @app.exception_handler(Refused)
    async def refused(_: Request, e: Refused) -> JSONResponse:
        return JSONResponse({"error": e.code, "message": e.message}, e.status, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": "invalid_request", "message": f"{where}: {first.get('msg', 'invalid')}"}, 422)

    return app

