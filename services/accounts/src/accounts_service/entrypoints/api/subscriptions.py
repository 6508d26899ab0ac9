"""``/api/accounts/public/subscriptions``: an organisation subscribes, without an account yet.
Open to anyone (the gateway lets ``/api/<service>/public/`` through without a token); each step
is authorised by the link e-mailed for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query

from accounts_service.domain.entity import Description, Person
from accounts_service.entrypoints.api.documents import public_document
from accounts_service.entrypoints.deps import CallOrigin, Ctx
from accounts_service.entrypoints.schemas import (
    AcceptanceCreate,
    AcceptanceRequest,
    EditGrant,
    EntityDescription,
    EntityPublic,
    LinkUse,
    SubscriptionCreate,
    SubscriptionStarted,
    Token,
)
from accounts_service.service_layer import subscriptions

router = APIRouter(prefix="/api/accounts/public/subscriptions", tags=["subscription (public)"])
SubscriptionId = Annotated[str, Path(max_length=64)]


@router.post("", status_code=202, response_model=SubscriptionStarted,
             summary="1. The future correspondent gives their e-mail (anyone); a validation link is e-mailed")
async def start(body: SubscriptionCreate, ctx: Ctx) -> SubscriptionStarted:
    entity = await subscriptions.start(ctx, Person(body.first_name, body.last_name, str(body.email)))
    return SubscriptionStarted(subscription_id=entity.id, status=entity.status,
                               message=f"a validation link was sent to {body.email}")


@router.post("/{subscription_id}/email-verification", response_model=EditGrant,
             summary="2. The e-mailed link validates the address (holder of the link); returns a token to "
                     "describe the entity with")
async def verify(subscription_id: SubscriptionId, body: LinkUse, ctx: Ctx) -> EditGrant:
    edit_token = await subscriptions.verify_email(ctx, subscription_id, body.token)
    return EditGrant(subscription_id=subscription_id, edit_token=edit_token,
                     expires_at=ctx.clock() + ctx.rules.subscription_ttl)


@router.put("/{subscription_id}", response_model=EntityPublic,
            summary="3. The correspondent describes the entity and its legal representative (holder of the "
                    "X-Subscription-Token); the legal representative is e-mailed the documents to accept")
async def describe(subscription_id: SubscriptionId, body: EntityDescription, ctx: Ctx,
                   x_subscription_token: Annotated[Token, Header()]) -> EntityPublic:
    rep = body.legal_representative
    description = Description(
        name=body.name, category=body.category, country=body.country, sector=body.sector,
        legal_representative=Person(rep.first_name, rep.last_name, str(rep.email), rep.role),
        identifier_scheme=body.identifier_scheme, identifier=body.identifier,
        contract_reference=body.contract_reference, partner_entity_id=body.partner_entity_id)
    return EntityPublic.of(await subscriptions.describe(ctx, subscription_id, x_subscription_token, description))


@router.get("/{subscription_id}/acceptance", response_model=AcceptanceRequest,
            summary="4. What the legal representative is asked to accept (holder of the acceptance link)")
async def to_accept(subscription_id: SubscriptionId, token: Annotated[Token, Query()], ctx: Ctx) -> AcceptanceRequest:
    entity, documents = await subscriptions.documents_to_accept(ctx, subscription_id, token)
    rep = entity.legal_representative
    return AcceptanceRequest(entity_id=entity.id, entity_name=entity.name, legal_representative=rep.name if rep else "",
                             documents=[public_document(ctx, d) for d in documents])


@router.post("/{subscription_id}/acceptance", response_model=EntityPublic,
             summary="5. The legal representative accepts the documents electronically (holder of the "
                     "acceptance link); time, versions, hashes and origin are recorded")
async def accept(subscription_id: SubscriptionId, body: AcceptanceCreate, ctx: Ctx, where: CallOrigin) -> EntityPublic:
    accepted = [(d.document_id, d.version, d.sha256) for d in body.documents]
    return EntityPublic.of(await subscriptions.accept(ctx, subscription_id, body.token, accepted, body.signatory,
                                                      where))
