"""Composition root of the accounts service (skeleton: the caller's identity and entity activity;
subscriptions, users and roles come with Keycloak)."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_contracts import requests
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from accounts_service.entrypoints import api, consumers
from accounts_service.settings import Settings


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter)
    activity = runtime.store("entity_activity")
    runtime.subscribe(requests.TOPIC, consumers.GROUP, consumers.requests_handler(activity))
    return runtime.create_app(title="DINAMIS accounts", routers=[api.router], indexed=[activity], activity=activity)
