"""Use cases of an entity's subscription: e-mail, description, acceptance, reviews, certificate."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from uuid6 import uuid7

from accounts_service.domain.access import Actor, may_see_entity, must_be_admin
from accounts_service.domain.documents import LegalDocument
from accounts_service.domain.entity import APPROVED, Description, Entity, Person
from accounts_service.domain.errors import Conflict, NotFound
from accounts_service.domain.events import AcceptanceRequested
from accounts_service.domain.membership import certificate_facts
from accounts_service.service_layer import mails
from accounts_service.service_layer.context import Accounts, retrying
from accounts_service.service_layer.ports import StoredCertificate


@dataclass(frozen=True)
class Origin:
    """Where an acceptance came from, as the gateway saw it."""

    address: str
    user_agent: str

    def __str__(self) -> str:
        return f"{self.address} ({self.user_agent[:200]})" if self.user_agent else self.address


async def load(ctx: Accounts, entity_id: str) -> Entity:
    entity = await ctx.entities.get(entity_id)
    if entity is None:
        raise NotFound(f"no entity or subscription {entity_id}")
    return entity


async def _save(ctx: Accounts, entity: Entity, applied_event: str | None = None) -> bool:
    """Stores the entity with the e-mails its events call for (document titles read only when an
    invitation lists documents)."""
    titles: dict[str, str] = {}
    if any(isinstance(e, AcceptanceRequested) for e in entity.events):
        titles = {d.document_id: d.title for d in (await ctx.current_documents()).values()}
    return await ctx.entities.save(entity, mails.for_entity(entity, ctx.rules.portal_url, titles),
                                   applied_event=applied_event)


async def start(ctx: Accounts, correspondent: Person) -> Entity:
    entity = Entity.start(str(uuid7()), correspondent, ctx.clock(), ctx.rules.verification_ttl)
    await ctx.entities.add(entity, mails.for_entity(entity, ctx.rules.portal_url, {}))
    return entity


async def verify_email(ctx: Accounts, entity_id: str, token: str) -> str:
    async def attempt() -> str | None:
        entity = await load(ctx, entity_id)
        edit_token = entity.verify_email(token, ctx.clock(), ctx.rules.subscription_ttl)
        return edit_token if await _save(ctx, entity) else None

    return await retrying(attempt, f"subscription {entity_id}")


async def describe(ctx: Accounts, entity_id: str, edit_token: str, description: Description) -> Entity:
    async def attempt() -> Entity | None:
        entity = await load(ctx, entity_id)
        partner = await ctx.entities.get(description.partner_entity_id) if description.partner_entity_id else None
        entity.describe(edit_token, description, partner, await ctx.current_documents(), ctx.clock(),
                        ctx.rules.acceptance_ttl)
        try:
            return entity if await _save(ctx, entity) else None
        except Conflict:
            holder = await ctx.entities.by_identity_key(entity.identity_key)
            if holder is None or not holder.abandon_if_stale(ctx.clock()):
                raise
            await ctx.entities.save(holder)
            return None  # the identifier is free again: try once more

    return await retrying(attempt, f"subscription {entity_id}")


async def documents_to_accept(ctx: Accounts, entity_id: str, token: str) -> tuple[Entity, list[LegalDocument]]:
    """What the legal representative is asked to accept (the link is checked, not spent)."""
    entity = await load(ctx, entity_id)
    entity.check_acceptance_link(token, ctx.clock())
    return entity, entity.required_documents(await ctx.current_documents())


async def accept(ctx: Accounts, entity_id: str, token: str, accepted: list[tuple[str, str, str]], signatory: str,
                 origin: Origin) -> Entity:
    async def attempt() -> Entity | None:
        entity = await load(ctx, entity_id)
        entity.accept(token, accepted, signatory, str(origin), await ctx.current_documents(), ctx.clock())
        return entity if await _save(ctx, entity) else None

    return await retrying(attempt, f"subscription {entity_id}")


async def review(ctx: Accounts, entity_id: str, reviewer: str, decision: str, reason: str, actor: Actor) -> Entity:
    """A decision by DINAMIS, CNES or Airbus (recorded by an administrator). DINAMIS' approval
    issues the signed membership certificate, stored before the entity names it."""
    must_be_admin(actor)

    async def attempt() -> Entity | None:
        entity = await load(ctx, entity_id)
        docs, now = await ctx.current_documents(), ctx.clock()
        approving = reviewer == "dinamis" and decision == "approve"
        serial = f"DIN-{now:%Y}-{secrets.token_hex(5).upper()}" if approving else ""
        entity.review(reviewer, decision, actor.username, reason, docs, now, certificate_serial=serial)
        if approving:
            pdf = await ctx.certificates.issue(certificate_facts(entity, docs, serial, actor.username, now))
            await ctx.certificate_store.put(StoredCertificate(serial, entity.id, hashlib.sha256(pdf).hexdigest(),
                                                              now, pdf))
        return entity if await _save(ctx, entity) else None

    return await retrying(attempt, f"entity {entity_id}")


async def suspend(ctx: Accounts, entity_id: str, reason: str, actor: Actor) -> Entity:
    must_be_admin(actor)

    async def attempt() -> Entity | None:
        entity = await load(ctx, entity_id)
        entity.suspend(actor.username, reason, ctx.clock())
        return entity if await _save(ctx, entity) else None

    return await retrying(attempt, f"entity {entity_id}")


async def visible_entity(ctx: Accounts, entity_id: str, actor: Actor) -> Entity:
    may_see_entity(actor, entity_id)
    return await load(ctx, entity_id)


async def certificate(ctx: Accounts, entity_id: str, actor: Actor) -> StoredCertificate:
    entity = await visible_entity(ctx, entity_id, actor)
    stored = await ctx.certificate_store.get(entity.certificate_serial) if entity.certificate_serial else None
    if stored is None or (entity.status != APPROVED and not actor.is_admin):
        raise NotFound(f"entity {entity_id} has no membership certificate (it is {entity.status})")
    return stored


async def document_published(ctx: Accounts, entity_id: str, document: LegalDocument, event_id: str) -> None:
    """A new version of a document is current: this entity's legal representative is asked to
    accept it, and the entity's eligibility drops until they do (once per publication event)."""
    async def attempt() -> bool | None:
        entity = await load(ctx, entity_id)
        if event_id in entity.seen_events:
            return True
        entity.document_published(document, await ctx.current_documents(), ctx.clock(), ctx.rules.acceptance_ttl)
        return True if await _save(ctx, entity, applied_event=event_id) else None

    await retrying(attempt, f"entity {entity_id}")
