"""Composition root of the requests service."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_contracts import accounts, arbitration, provisioning, requests
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from requests_service.adapters.entities import MongoEntityDirectory
from requests_service.adapters.repository import MongoRequestRepository
from requests_service.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidAoi,
    NotEligible,
    RequestNotFound,
)
from requests_service.entrypoints import api, consumers
from requests_service.settings import Settings

ERRORS = {InvalidAoi: 422, NotEligible: 403, RequestNotFound: 404, IdempotencyKeyReused: 409, ConcurrentUpdate: 409}


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, span_exporter)
    repository = MongoRequestRepository(runtime.store("requests"))
    entities = MongoEntityDirectory(runtime.db["entities"])  # by _id only: no index to create
    runtime.publishes(requests.TOPIC)
    runtime.subscribe(arbitration.TOPIC, consumers.REVIEW_GROUP, consumers.arbitration_handler(repository))
    runtime.subscribe(provisioning.TOPIC, consumers.ORDER_GROUP, consumers.provisioning_handler(repository))
    runtime.subscribe(accounts.ENTITY_TOPIC, consumers.ENTITY_GROUP, consumers.entities_handler(entities))
    return runtime.create_app(title="DINAMIS requests", routers=[api.router], indexed=[repository],
                              error_table=ERRORS, repository=repository, entities=entities)
