"""Composition root of the arbitration service: settings → clients → repositories → handlers.
``create_app`` is the public factory (``python -m arbitration_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass

from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, requests, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from arbitration_service.adapters.repository import MongoCaseRepository
from arbitration_service.domain.model import AutoRule
from arbitration_service.entrypoints.api import cases
from arbitration_service.entrypoints.consumers import requests as from_requests
from arbitration_service.service_layer.context import Arbitration
from arbitration_service.settings import Settings


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Arbitration
    cases: MongoCaseRepository


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, topics=topics)
    repository = MongoCaseRepository(runtime.store("cases"))
    ctx = Arbitration(cases=repository,
                      rule=AutoRule(settings.arbitration_auto_accept, settings.arbitration_auto_accept_max_km2))
    runtime.publishes(arbitration.TOPIC)
    runtime.subscribe(requests.TOPIC, from_requests.GROUP, from_requests.handler(ctx))
    return Container(settings, runtime, ctx, repository)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    return c.runtime.create_app(title="DINAMIS arbitration", routers=[cases.router], indexed=[c.cases],
                                context=c.context)
