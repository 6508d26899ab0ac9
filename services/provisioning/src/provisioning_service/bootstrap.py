"""Composition root of the provisioning service: settings → clients (Airbus, the object store) →
repositories → handlers, the consumers and the worker. ``create_app`` is the public factory
(``python -m provisioning_service`` serves it); tests may hand it another Airbus or object store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dinamis_common.background import Periodic
from dinamis_common.objectstore import ObjectStore
from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, provisioning, requests, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from provisioning_service.adapters.airbus import build_airbus
from provisioning_service.adapters.products import DimapProductReader
from provisioning_service.adapters.repository import MongoOrderRepository
from provisioning_service.adapters.requests import MongoRequestDirectory
from provisioning_service.domain.model import OrderNotAllowed, OrderNotFound
from provisioning_service.entrypoints.api import notifications, orders
from provisioning_service.entrypoints.consumers import arbitration as from_arbitration
from provisioning_service.entrypoints.consumers import requests as from_requests
from provisioning_service.service_layer import flow
from provisioning_service.service_layer.airbus_port import Airbus
from provisioning_service.service_layer.context import FlowRules, Provisioning
from provisioning_service.service_layer.ports import ObjectStore as ObjectStorePort
from provisioning_service.settings import Settings

ERRORS = {OrderNotFound: 404, OrderNotAllowed: 409}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Provisioning
    orders: MongoOrderRepository
    requests: MongoRequestDirectory
    indexed: tuple[Any, ...]


def _closing(store: ObjectStore) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        store.close()

    return close


def rules(settings: Settings) -> FlowRules:
    return FlowRules(auto_confirm=settings.provisioning_auto_confirm,
                     price_tolerance=settings.provisioning_price_tolerance,
                     poll_initial_seconds=settings.provisioning_poll_initial_seconds,
                     poll_max_seconds=settings.provisioning_poll_max_seconds,
                     retry_seconds=settings.provisioning_retry_seconds, batch=settings.provisioning_worker_batch)


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None, *, airbus: Airbus | None = None,
              object_store: ObjectStorePort | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, topics=topics)
    repository = MongoOrderRepository(runtime.store("orders"))
    directory = MongoRequestDirectory(runtime.db["requests"])
    indexed: list[Any] = [repository, directory]
    if airbus is None:
        connector, gate = build_airbus(settings, runtime.db, runtime.telemetry.meter("dinamis.airbus"))
        runtime.on_stop.append(connector.close)
        airbus, indexed = connector, [*indexed, gate]
    if object_store is None:  # its bucket ``deliveries`` is made by the stack (production: the platform's S3)
        real = ObjectStore.from_settings(settings)
        runtime.on_stop.append(_closing(real))
        object_store = real
    ctx = Provisioning(orders=repository, requests=directory, airbus=airbus, store=object_store,
                       reader=DimapProductReader(), rules=rules(settings),
                       notification_secret=settings.airbus_notification_secret.get_secret_value().encode())
    runtime.publishes(provisioning.TOPIC)
    runtime.subscribe(arbitration.TOPIC, from_arbitration.GROUP, from_arbitration.handler(ctx))
    runtime.subscribe(requests.TOPIC, from_requests.GROUP, from_requests.handler(ctx))
    worker = Periodic(lambda: flow.run_due(ctx), settings.provisioning_worker_seconds, "provisioning.orders-worker")
    runtime.on_start.append(worker.start)
    runtime.on_stop.insert(0, worker.stop)
    return Container(settings, runtime, ctx, repository, directory, tuple(indexed))


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None, *,
               airbus: Airbus | None = None, object_store: ObjectStorePort | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter, airbus=airbus, object_store=object_store)
    return c.runtime.create_app(title="DINAMIS provisioning", routers=[orders.router, notifications.router],
                                indexed=list(c.indexed), error_table=ERRORS, context=c.context)
