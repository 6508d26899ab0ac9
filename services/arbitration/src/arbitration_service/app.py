"""Composition root of the arbitration service."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, requests
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from arbitration_service.adapters.repository import MongoCaseRepository
from arbitration_service.domain.model import AutoRule
from arbitration_service.entrypoints import api, consumers
from arbitration_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter)
    repository = MongoCaseRepository(runtime.store("cases"))
    rule = AutoRule(settings.arbitration_auto_accept, settings.arbitration_auto_accept_max_km2)
    runtime.publishes(arbitration.TOPIC)
    runtime.subscribe(requests.TOPIC, consumers.GROUP, consumers.requests_handler(repository, rule))
    return runtime.create_app(title="DINAMIS arbitration", routers=[api.router], indexed=[repository],
                              repository=repository)
