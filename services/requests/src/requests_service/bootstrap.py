"""Composition root of the requests service: settings → clients → repositories → handlers.
``create_app`` is the public factory (``python -m requests_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dinamis_common.background import Periodic
from dinamis_common.dated import in_force
from dinamis_common.runtime import Runtime
from dinamis_contracts import accounts, arbitration, provisioning, requests, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from requests_service.adapters.arbitration import HttpAllowances
from requests_service.adapters.catalogue import HttpCatalogue
from requests_service.adapters.entities import MongoEntityDirectory
from requests_service.adapters.queues import HttpQueues
from requests_service.adapters.repository import MongoRequestRepository
from requests_service.adapters.tasking_index import MongoTaskingIndex
from requests_service.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidRequest,
    NotAllowed,
    NotEligible,
    NotRequester,
    RequestNotFound,
)
from requests_service.entrypoints.api import eligibility
from requests_service.entrypoints.api import quotes as quotes_api
from requests_service.entrypoints.api import requests as requests_api
from requests_service.entrypoints.consumers import accounts as from_accounts
from requests_service.entrypoints.consumers import arbitration as from_arbitration
from requests_service.entrypoints.consumers import provisioning as from_provisioning
from requests_service.entrypoints.consumers import tasking_index as pending_taskings
from requests_service.service_layer import handlers
from requests_service.service_layer.context import Requests, utcnow
from requests_service.settings import Settings

# UpstreamUnavailable is not here on purpose: a transient failure, the runtime answers 503 with Retry-After
ERRORS = {InvalidRequest: 422, NotEligible: 403, NotAllowed: 403, NotRequester: 403, RequestNotFound: 404,
          IdempotencyKeyReused: 409, ConcurrentUpdate: 409, IllegalTransition: 409}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Requests
    requests: MongoRequestRepository
    entities: MongoEntityDirectory
    tasking_index: MongoTaskingIndex


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, topics=topics)
    repository = MongoRequestRepository(runtime.store("requests"))
    entities = MongoEntityDirectory(runtime.db["entities"])
    tasking_index = MongoTaskingIndex(runtime.db["pending_taskings"], runtime.db["pending_tasking_removals"])
    catalogue = HttpCatalogue(settings.catalogue_url, settings.upstream_timeout_seconds)
    runtime.on_stop.append(catalogue.close)
    allowances = HttpAllowances(settings.arbitration_url, settings.upstream_timeout_seconds)
    runtime.on_stop.append(allowances.close)
    queues = HttpQueues(settings.arbitration_url, min(settings.upstream_timeout_seconds, 2.0))  # a read waits for it
    runtime.on_stop.append(queues.close)
    ctx = Requests(requests=repository, entities=entities, tasking_index=tasking_index, catalogue=catalogue,
                   allowances=allowances, queues=queues,
                   rules=lambda day: in_force(settings.requests_rules, day, "intake rules"),
                   tariff=lambda day: in_force(settings.requests_tariffs, day, "tariff"))
    runtime.publishes(requests.TOPIC)
    runtime.subscribe(arbitration.TOPIC, from_arbitration.GROUP, from_arbitration.handler(ctx))
    runtime.subscribe(provisioning.TOPIC, from_provisioning.GROUP, from_provisioning.handler(ctx))
    runtime.subscribe(accounts.ENTITY_TOPIC, from_accounts.GROUP, from_accounts.handler(ctx))
    runtime.subscribe(requests.TOPIC, pending_taskings.GROUP, pending_taskings.handler(tasking_index))
    # removals are remembered as long as a replay of the stream can bring their addition back
    retention = timedelta(seconds=settings.changes_retention_seconds)
    sweep = Periodic(lambda: tasking_index.sweep(utcnow() - retention, utcnow() - timedelta(days=1)),
                     settings.requests_sweep_seconds, "requests.sweep-pending-taskings")
    expiry = Periodic(lambda: handlers.expire_overdue(ctx), settings.requests_expiry_seconds, "requests.expire-overdue")
    for job in (sweep, expiry):
        runtime.on_start.append(job.start)
        runtime.on_stop.append(job.stop)
    return Container(settings, runtime, ctx, repository, entities, tasking_index)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    return c.runtime.create_app(title="DINAMIS requests", routers=[eligibility.router, quotes_api.router,
                                                                      requests_api.router],
                                indexed=[c.requests, c.entities, c.tasking_index], error_table=ERRORS,
                                context=c.context)
