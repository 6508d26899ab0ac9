"""Domain events → wire events (``dinamis_contracts.accounts``): each carries the aggregate's
public state after the change, with the version it will have once stored."""

from __future__ import annotations

from typing import Any

from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.outbox import Outgoing
from dinamis_contracts import accounts as contract

from accounts_service.domain import events as ev
from accounts_service.domain.documents import LegalDocument, governs
from accounts_service.domain.entity import Entity
from accounts_service.domain.user import User

_ENTITY = {
    ev.EntitySubscribed: (contract.ENTITY_SUBSCRIBED, contract.EntitySubscribedV1,
                          lambda e: {"subscribed_at": e.at}),
    ev.LicenceAccepted: (contract.LICENCE_ACCEPTED, contract.LicenceAcceptedV1, lambda e: {
        "accepted_at": e.at,
        "documents": [{"document_id": d, "version": v, "sha256": s} for d, v, s in e.documents]}),
    ev.EntityApproved: (contract.ENTITY_APPROVED, contract.EntityApprovedV1, lambda e: {
        "approved_by": e.by, "approved_at": e.at, "certificate_serial": e.certificate_serial}),
    ev.EntityRejected: (contract.ENTITY_REJECTED, contract.EntityRejectedV1, lambda e: {
        "rejected_by": e.by, "rejected_at": e.at, "reason": e.reason}),
    ev.EntitySuspended: (contract.ENTITY_SUSPENDED, contract.EntitySuspendedV1, lambda e: {
        "suspended_by": e.by, "suspended_at": e.at, "reason": e.reason}),
    ev.EligibilityChanged: (contract.ENTITY_ELIGIBILITY_CHANGED, contract.EntityEligibilityChangedV1,
                            lambda e: {"changed_at": e.at, "reason": e.reason}),
}

_USER = {
    ev.UserRequested: (contract.USER_REQUESTED, contract.UserRequestedV1, lambda e: {"requested_at": e.at}),
    ev.UserActivated: (contract.USER_ACTIVATED, contract.UserActivatedV1,
                       lambda e: {"activated_by": e.by, "activated_at": e.at}),
    ev.UserDeactivated: (contract.USER_DEACTIVATED, contract.UserDeactivatedV1, lambda e: {
        "deactivated_by": e.by, "deactivated_at": e.at, "reason": e.reason}),
    ev.RolesChanged: (contract.USER_ROLES_CHANGED, contract.UserRolesChangedV1, lambda e: {
        "previous_roles": e.previous_roles, "previous_cells": e.previous_cells, "changed_by": e.by,
        "changed_at": e.at, "reason": e.reason}),
    ev.IdentityLinked: (contract.IDENTITY_LINKED, contract.IdentityLinkedV1,
                        lambda e: {"provider": e.provider, "linked_at": e.at}),
}


def entity_snapshot(entity: Entity) -> dict[str, Any]:
    return {"entity_id": entity.id, "name": entity.name, "category": entity.category_id, "kind": entity.kind,
            "country": entity.country, "status": entity.status, "eligible_missions": list(entity.eligible_missions),
            "version": entity.version + 1}


def user_snapshot(user: User) -> dict[str, Any]:
    return {"user_id": user.id, "entity_id": user.entity_id, "status": user.status, "roles": list(user.roles),
            "cells": list(user.cells), "linked_identities": sorted(user.linked), "version": user.version + 1}


def _translate(table: dict, events: list[Any], snapshot: dict[str, Any], topic: str, subject: str) -> list[Outgoing]:
    out = []
    for event in events:
        if type(event) in table:
            kind, model, fields = table[type(event)]
            payload = model(**snapshot, **fields(event)).model_dump(mode="json")
            out.append(Outgoing(topic, CloudEvent(type=kind, source=contract.SOURCE, subject=subject, data=payload)))
    return out


def entity_events(entity: Entity) -> list[Outgoing]:
    if not entity.category_id:
        return []  # nothing public before the entity is described
    return _translate(_ENTITY, entity.events, entity_snapshot(entity), contract.ENTITY_TOPIC, entity.id)


def user_events(user: User) -> list[Outgoing]:
    return _translate(_USER, user.events, user_snapshot(user), contract.USER_TOPIC, user.id)


def document_published(document: LegalDocument) -> Outgoing:
    payload = contract.DocumentPublishedV1(
        document_id=document.document_id, version=document.version, title=document.title, sha256=document.sha256,
        missions=list(governs(document.document_id)), published_at=document.published_at)
    return Outgoing(contract.DOCUMENT_TOPIC, CloudEvent(type=contract.DOCUMENT_PUBLISHED, source=contract.SOURCE,
                                                        subject=document.document_id,
                                                        data=payload.model_dump(mode="json")))
