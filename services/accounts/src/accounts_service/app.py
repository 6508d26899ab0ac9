"""Composition root of the accounts service (skeleton: its own database and Kafka, no aggregate yet)."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from accounts_service.entrypoints import api
from accounts_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter)
    return runtime.create_app(title="DINAMIS accounts", routers=[api.router])
