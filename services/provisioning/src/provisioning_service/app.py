"""Composition root of the provisioning service."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, provisioning
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from provisioning_service.adapters.repository import MongoOrderRepository
from provisioning_service.entrypoints import api, consumers
from provisioning_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter)
    repository = MongoOrderRepository(runtime.store("orders"))
    runtime.publishes(provisioning.TOPIC)
    runtime.subscribe(arbitration.TOPIC, consumers.GROUP, consumers.arbitration_handler(repository))
    return runtime.create_app(title="DINAMIS provisioning", routers=[api.router], indexed=[repository],
                              repository=repository)
