"""What the accounts service does after its own events, at least once and idempotently (a
crash between the write and these effects only delays them):

* ``accounts.identity-sync`` (user events): Keycloak made to match the account — created,
  enabled or disabled, its ``entity_id`` / ``entity_category`` / ``cells`` attributes and realm
  roles (the token claims), and the set-password e-mail sent once;
* ``accounts.correspondents`` (entity events): on approval, the correspondent's account;
* ``accounts.licence-renewal`` (document events): every entity concerned by a new version of a
  document is asked to accept it, and loses eligibility for what it governs until then.
"""

from __future__ import annotations

from typing import Any

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts as contract

from accounts_service.domain.entity import APPROVED, AWAITING_REVIEW
from accounts_service.service_layer import documents, members, subscriptions
from accounts_service.service_layer.context import Accounts

IDENTITY_SYNC, CORRESPONDENTS, LICENCE_RENEWAL = (
    "accounts.identity-sync", "accounts.correspondents", "accounts.licence-renewal")
USER_EVENTS = {
    contract.USER_REQUESTED: contract.UserRequestedV1, contract.USER_ACTIVATED: contract.UserActivatedV1,
    contract.USER_DEACTIVATED: contract.UserDeactivatedV1, contract.USER_ROLES_CHANGED: contract.UserRolesChangedV1,
    contract.IDENTITY_LINKED: contract.IdentityLinkedV1,
}


def identity_sync(ctx: Accounts) -> Handler:
    async def sync(user: contract.UserSnapshot, _: CloudEvent) -> None:
        await members.sync_identity(ctx, user.user_id)

    return dispatch({kind: (model, sync) for kind, model in USER_EVENTS.items()})


def correspondents(ctx: Accounts) -> Handler:
    async def approved(entity: contract.EntityApprovedV1, _: CloudEvent) -> None:
        await members.enrol_correspondent(ctx, entity.entity_id)

    return dispatch({contract.ENTITY_APPROVED: (contract.EntityApprovedV1, approved)})


def licence_renewal(ctx: Accounts) -> Handler:
    async def published(doc: contract.DocumentPublishedV1, event: CloudEvent) -> None:
        document = await documents.find(ctx, doc.document_id, doc.version)
        for status in (AWAITING_REVIEW, APPROVED):
            after: Any = None
            while page := await ctx.entities.list(status, 100, after):
                for entity in page:
                    await subscriptions.document_published(ctx, entity.id, document, event.id)
                after = page[-1].id

    return dispatch({contract.DOCUMENT_PUBLISHED: (contract.DocumentPublishedV1, published)})
