"""Composition root of the provisioning service: settings → clients → repositories → handlers.
``create_app`` is the public factory (``python -m provisioning_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass

from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, provisioning, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from provisioning_service.adapters.repository import MongoOrderRepository
from provisioning_service.entrypoints.api import orders
from provisioning_service.entrypoints.consumers import arbitration as from_arbitration
from provisioning_service.service_layer.context import Provisioning
from provisioning_service.settings import Settings


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Provisioning
    orders: MongoOrderRepository


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, topics=topics)
    repository = MongoOrderRepository(runtime.store("orders"))
    ctx = Provisioning(orders=repository)
    runtime.publishes(provisioning.TOPIC)
    runtime.subscribe(arbitration.TOPIC, from_arbitration.GROUP, from_arbitration.handler(ctx))
    return Container(settings, runtime, ctx, repository)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    return c.runtime.create_app(title="DINAMIS provisioning", routers=[orders.router], indexed=[c.orders],
                                context=c.context)
