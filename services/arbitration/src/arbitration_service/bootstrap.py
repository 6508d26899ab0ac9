"""Composition root of the arbitration service: settings → clients → repositories → handlers.
``create_app`` is the public factory (``python -m arbitration_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dinamis_common.background import Periodic
from dinamis_common.runtime import Runtime
from dinamis_contracts import arbitration, provisioning, quota, requests, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from arbitration_service.adapters.ledger_repository import MongoLedgerRepository
from arbitration_service.adapters.packages import MongoPackageRepository
from arbitration_service.adapters.repository import MongoCaseRepository
from arbitration_service.domain.auto_rules import AutoRules
from arbitration_service.domain.errors import (
    CaseNotFound,
    ConcurrentUpdate,
    DecisionConflict,
    InvalidDecision,
    NotYourCell,
    UnknownCell,
)
from arbitration_service.domain.ledger import ExceedsHold, LedgerError, QuotaExceeded
from arbitration_service.domain.model import CELLS
from arbitration_service.domain.packages import InvalidPackage, PackageConflict, PackageNotFound
from arbitration_service.domain.policy import QuotaPolicy, UnknownPeriod
from arbitration_service.entrypoints.api import allowances, burndown, cases, cells, packages
from arbitration_service.entrypoints.consumers import ledger as from_ledger
from arbitration_service.entrypoints.consumers import requests as from_requests
from arbitration_service.service_layer import decisions
from arbitration_service.service_layer.context import Arbitration, QueuePolicy, utcnow
from arbitration_service.service_layer.packages import Packages
from arbitration_service.service_layer.quotas import Quotas
from arbitration_service.settings import Settings

ERRORS = {CaseNotFound: 404, UnknownCell: 404, NotYourCell: 403, InvalidDecision: 422, DecisionConflict: 409,
          ConcurrentUpdate: 409}
QUOTA_ERRORS = {QuotaExceeded: 409, ExceedsHold: 409, LedgerError: 422, UnknownPeriod: 422, InvalidPackage: 422,
                PackageConflict: 409, PackageNotFound: 404}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Arbitration
    cases: MongoCaseRepository
    quotas: Quotas
    ledgers: MongoLedgerRepository
    packages: Packages
    package_repository: MongoPackageRepository
    package_ledgers: MongoLedgerRepository


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None) -> Container:
    runtime = Runtime(settings, span_exporter, topics=topics)
    repository = MongoCaseRepository(runtime.store("cases"))
    rules = AutoRules.of({cell: [r.model_dump() for r in configured]
                          for cell, configured in settings.arbitration_auto_rules.items()}, CELLS)
    queue = QueuePolicy(settings.arbitration_pace_days, settings.arbitration_default_decisions_per_day,
                        settings.arbitration_queue_max_cases)
    ledgers = MongoLedgerRepository(runtime.store("quota_ledgers"))
    quotas = Quotas(ledgers, QuotaPolicy.from_config(settings.arbitration_quota_policy), utcnow)
    package_repository = MongoPackageRepository(runtime.db["packages"])
    package_ledgers = MongoLedgerRepository(runtime.store("package_ledgers"), entries=runtime.db["package_entries"],
                                            announce=False)
    packages_ctx = Packages(package_repository, Quotas(package_ledgers, quotas.policy, utcnow))
    settle_after = timedelta(seconds=settings.arbitration_settle_after_seconds)
    ctx = Arbitration(cases=repository, rules=rules, queue=queue, quotas=quotas, packages=packages_ctx,
                      settle_after=settle_after)
    runtime.publishes(arbitration.TOPIC)
    runtime.subscribe(requests.TOPIC, from_requests.GROUP, from_requests.handler(ctx))
    runtime.publishes(quota.TOPIC)
    runtime.subscribe(requests.TOPIC, from_ledger.RELEASES, from_ledger.releases(quotas, packages_ctx))
    runtime.subscribe(provisioning.TOPIC, from_ledger.DELIVERIES, from_ledger.deliveries(quotas, packages_ctx))
    sweep = Periodic(lambda: decisions.settle(ctx), settle_after.total_seconds() / 3, "arbitration.settle-decisions")
    runtime.on_start.append(sweep.start)
    runtime.on_stop.append(sweep.stop)
    return Container(settings, runtime, ctx, repository, quotas, ledgers, packages_ctx, package_repository,
                     package_ledgers)


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter)
    return c.runtime.create_app(title="DINAMIS arbitration", routers=[cases.router, cells.router, burndown.router,
                                                                         allowances.router, packages.router],
                                indexed=[c.cases, c.ledgers, c.package_repository, c.package_ledgers],
                                error_table={**ERRORS, **QUOTA_ERRORS}, context=c.context, quotas=c.quotas,
                                packages=c.packages)
