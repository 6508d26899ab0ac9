"""In-memory adapters of the provisioning unit tests: the orders (with what their changes published), the
request read model, the object store; and a flow context wired to the test kit's FakeAirbus."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from dinamis_testkit.airbus import FakeAirbus
from provisioning_service.adapters.products import DimapProductReader
from provisioning_service.adapters.translators import outgoing
from provisioning_service.domain.model import Order
from provisioning_service.domain.requests import Quote, RequestDetails, Scene, Tasking
from provisioning_service.service_layer.context import FlowRules, Provisioning

START = datetime(2026, 6, 1, tzinfo=UTC)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.55], [3.95, 43.55], [3.95, 43.65], [3.8, 43.65], [3.8, 43.55]]]}


class InMemoryOrders:
    def __init__(self) -> None:
        self.rows: dict[str, Order] = {}
        self.published: list = []

    def _copy(self, o: Order) -> Order:
        c = copy.deepcopy(o)
        c.events = []
        return c

    async def add(self, order: Order) -> bool:
        if order.request_id in self.rows:
            order.events.clear()
            return False
        self.published += outgoing(order.events)
        order.events.clear()
        order.version = 1
        self.rows[order.request_id] = self._copy(order)
        return True

    async def get(self, request_id):
        return self._copy(self.rows[request_id]) if request_id in self.rows else None

    async def find(self, order_or_request_id):
        found = next((o for o in self.rows.values() if o.order_id == order_or_request_id), None)
        found = found or self.rows.get(order_or_request_id)
        return self._copy(found) if found else None

    async def save(self, order: Order) -> bool:
        if self.rows[order.request_id].version != order.version:
            order.events.clear()
            return False
        self.published += outgoing(order.events)
        order.events.clear()
        order.version += 1
        self.rows[order.request_id] = self._copy(order)
        return True

    async def due(self, now, limit):
        due = [o for o in self.rows.values() if o.due and o.next_check_at is not None and o.next_check_at <= now]
        return [self._copy(o) for o in sorted(due, key=lambda o: o.next_check_at)[:limit]]

    async def list(self, limit, before=None, request_id=None, status=None):
        found = [o for o in self.rows.values() if (before is None or o.recorded_at < before)
                 and (request_id is None or o.request_id == request_id) and (status is None or o.status == status)]
        return sorted(found, key=lambda o: o.recorded_at, reverse=True)[:limit]

    def events(self, kind: str | None = None) -> list:
        return [o.event for o in self.published if kind is None or o.event.type == kind]


class InMemoryRequests:
    def __init__(self) -> None:
        self.rows: dict[str, RequestDetails] = {}

    async def add(self, request: RequestDetails) -> None:
        self.rows.setdefault(request.request_id, request)

    async def get(self, request_id):
        return self.rows.get(request_id)


class InMemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.puts = 0

    async def put(self, bucket: str, key: str, data: bytes, content_type: str) -> str:
        self.puts += 1
        url = f"s3://{bucket}/{key}"
        self.objects[url] = (bytes(data), content_type)
        return url


def quote(area: float = 30.0, *, billed: float = 0.0, price: str = "0", payer: str = "nobody",
          minimum: float = 25.0) -> Quote:
    return Quote(area_km2=area, billed_km2=billed, price_eur=Decimal(price), payer=payer, invoicing_minimum_km2=minimum)


def archive(request_id: str, *, mission: str = "pleiades", q: Quote | None = None) -> RequestDetails:
    return RequestDetails(request_id, "archive", mission, AOI, 30.0,
                          scenes=(Scene("PHR1A_202605011030", AOI, 30.0),), quote=q or quote())


def tasking(request_id: str, *, mission: str = "pleiades", q: Quote | None = None) -> RequestDetails:
    return RequestDetails(request_id, "tasking", mission, AOI, 30.0,
                          tasking=Tasking(START + timedelta(days=3), START + timedelta(days=30), 20.0, 30.0, "mono",
                                          "standard"),
                          quote=q or quote(30.0, minimum=100.0))


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Flow:
    ctx: Provisioning
    airbus: FakeAirbus
    orders: InMemoryOrders
    requests: InMemoryRequests
    store: InMemoryObjectStore
    clock: Clock
    ids: count = field(default_factory=lambda: count(1))

    def submitted(self, request: RequestDetails) -> RequestDetails:
        self.requests.rows[request.request_id] = request
        return request

    def archive(self, request_id: str, **kw) -> RequestDetails:
        return self.submitted(archive(request_id, **kw))

    def tasking(self, request_id: str, **kw) -> RequestDetails:
        return self.submitted(tasking(request_id, **kw))

    quote = staticmethod(quote)


def make_flow(*, auto_confirm: bool = True, package: bytes | None = None, **airbus) -> Flow:
    clock, ids = Clock(), count(1)
    fake = FakeAirbus(package=package, **airbus)
    orders, requests, store = InMemoryOrders(), InMemoryRequests(), InMemoryObjectStore()
    ctx = Provisioning(orders=orders, requests=requests, airbus=fake, store=store, reader=DimapProductReader(),
                       rules=FlowRules(auto_confirm=auto_confirm, poll_initial_seconds=5, poll_max_seconds=60,
                                       retry_seconds=10),
                       clock=clock, new_id=lambda: f"o{next(ids)}", notification_secret=b"s3cret")
    return Flow(ctx, fake, orders, requests, store, clock)


@pytest.fixture
def flow(make_package) -> Flow:
    return make_flow(package=make_package())


@pytest.fixture
def new_flow():
    """A flow with other settings (``make_flow``'s arguments)."""
    return make_flow
