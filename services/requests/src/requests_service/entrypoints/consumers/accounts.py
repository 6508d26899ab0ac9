"""The entity read model, learnt from the accounts entity events (group ``requests.entities``):
every entity event carries the entity's whole public state, the newest version is kept."""

from __future__ import annotations

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts as acc

from requests_service.domain.entities import Entity
from requests_service.service_layer import handlers
from requests_service.service_layer.context import Requests

GROUP = "requests.entities"  # upstream: accounts


def handler(ctx: Requests) -> Handler:
    async def keep(p: acc.EntitySnapshot, _: CloudEvent) -> None:
        await handlers.entity_announced(ctx, Entity(
            entity_id=p.entity_id, name=p.name, kind=p.kind, status=p.status,
            eligible_missions=frozenset(p.eligible_missions), version=p.version))

    return dispatch({
        acc.ENTITY_SUBSCRIBED: (acc.EntitySubscribedV1, keep),
        acc.LICENCE_ACCEPTED: (acc.LicenceAcceptedV1, keep),
        acc.ENTITY_APPROVED: (acc.EntityApprovedV1, keep),
        acc.ENTITY_REJECTED: (acc.EntityRejectedV1, keep),
        acc.ENTITY_SUSPENDED: (acc.EntitySuspendedV1, keep),
        acc.ENTITY_ELIGIBILITY_CHANGED: (acc.EntityEligibilityChangedV1, keep),
    })
