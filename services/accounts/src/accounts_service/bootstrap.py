"""Composition root of the accounts service (entity subscriptions and licences, users and roles,
the membership certificates, Keycloak kept in step): settings → clients → repositories → handlers.
``create_app`` is the public factory (``python -m accounts_service`` serves it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dinamis_common.background import Periodic
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_common.runtime import Runtime
from dinamis_contracts import accounts, requests, topics
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from accounts_service.adapters.certificate import PadesCertificates
from accounts_service.adapters.keycloak import KeycloakIdentityProvider
from accounts_service.adapters.legal_texts import shipped
from accounts_service.adapters.mail import SmtpSender, mail_relay
from accounts_service.adapters.repository import MAILS, MongoCertificates, MongoDocuments, MongoEntities, MongoUsers
from accounts_service.domain import errors
from accounts_service.entrypoints.api import certificates, documents, entities, me, subscriptions, users
from accounts_service.entrypoints.consumers import activity, own_events
from accounts_service.service_layer import leftovers
from accounts_service.service_layer.context import Accounts, Rules
from accounts_service.service_layer.ports import CertificateIssuer, IdentityProvider
from accounts_service.settings import Settings

ERRORS = {errors.InvalidInput: 422, errors.NotFound: 404, errors.Conflict: 409, errors.LinkInvalid: 410,
          errors.NotAllowed: 403, errors.ConcurrentUpdate: 409}


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: Runtime
    context: Accounts
    activity: AggregateStore  # requests submitted per entity (its read model of the requests events)
    indexed: tuple[object, ...]  # what creates its indexes at start


def bootstrap(settings: Settings, span_exporter: SpanExporter | None = None, *,
              certificates_issuer: CertificateIssuer | None = None,
              identity: IdentityProvider | None = None) -> Container:
    """``certificates_issuer`` and ``identity`` replace the PAdES signer and Keycloak (tests)."""
    runtime = Runtime(settings, span_exporter, topics=topics)
    mails = mail_relay(SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from),
                       settings.outbox_poll_seconds, runtime.telemetry.meter_provider.get_meter("dinamis.relay"))
    runtime.extra_relays.append(mails)  # e-mails are relayed from the changes that carry them
    entity_repo = MongoEntities(runtime.store("entities", effects=(MAILS,)))
    user_repo = MongoUsers(runtime.store("users", effects=(MAILS,)))
    mails.add(entity_repo.store)
    mails.add(user_repo.store)
    document_repo = MongoDocuments(runtime.store("documents"))
    certificate_store = MongoCertificates(runtime.db["certificates"])
    keycloak = identity or KeycloakIdentityProvider(
        settings.keycloak_url, settings.keycloak_realm, settings.keycloak_client_id, settings.keycloak_client_secret,
        settings.keycloak_portal_client, settings.portal_url)
    ctx = Accounts(
        entities=entity_repo, users=user_repo, documents=document_repo, certificate_store=certificate_store,
        certificates=certificates_issuer or PadesCertificates(
            settings.certificate_key_file, settings.certificate_cert_file, settings.certificate_chain_files,
            settings.certificate_trust_files, settings.certificate_timestamp_url),
        identity=keycloak,
        rules=Rules(portal_url=settings.portal_url, verification_ttl=timedelta(hours=settings.verification_link_hours),
                    subscription_ttl=timedelta(hours=settings.verification_link_hours),
                    acceptance_ttl=timedelta(days=settings.acceptance_link_days),
                    unconfirmed_expiry=timedelta(hours=settings.unconfirmed_expiry_hours)))
    activity_store = runtime.store("entity_activity")

    runtime.publishes(accounts.ENTITY_TOPIC, accounts.USER_TOPIC, accounts.DOCUMENT_TOPIC)
    runtime.subscribe(requests.TOPIC, activity.GROUP, activity.requests_handler(activity_store))
    runtime.subscribe(accounts.USER_TOPIC, own_events.IDENTITY_SYNC, own_events.identity_sync(ctx))
    runtime.subscribe(accounts.ENTITY_TOPIC, own_events.CORRESPONDENTS, own_events.correspondents(ctx))
    runtime.subscribe(accounts.DOCUMENT_TOPIC, own_events.LICENCE_RENEWAL, own_events.licence_renewal(ctx))

    async def publish_shipped_documents() -> None:
        for document in shipped():
            await document_repo.add(document)  # a no-op for versions already there

    async def start_mails() -> None:
        mails.start()

    async def stop() -> None:
        await mails.stop()
        if identity is None:
            await keycloak.close()

    expiry = Periodic(lambda: leftovers.sweep(ctx), settings.leftovers_sweep_seconds, "accounts.expire-unconfirmed")
    runtime.on_start.extend([publish_shipped_documents, start_mails, expiry.start])
    runtime.on_stop.extend([expiry.stop, stop])
    return Container(settings, runtime, ctx, activity_store,
                     (entity_repo, user_repo, document_repo, certificate_store, activity_store))


def create_app(settings: Settings | None = None, span_exporter: SpanExporter | None = None, *,
               certificates_issuer: CertificateIssuer | None = None,
               identity: IdentityProvider | None = None) -> FastAPI:
    c = bootstrap(settings or Settings(), span_exporter, certificates_issuer=certificates_issuer, identity=identity)
    return c.runtime.create_app(
        title="DINAMIS accounts",
        routers=[subscriptions.router, documents.public, documents.router, users.public, users.router,
                 entities.router, certificates.router, me.router],
        indexed=c.indexed, error_table=ERRORS, context=c.context, activity=c.activity)
