"""Events of the accounts domain (producer: accounts service).

Every event carries the aggregate's current public state (event-carried state transfer): a
read model keeps, per entity or user, the payload with the highest ``version`` and ignores
older ones, so replaying a topic from offset 0, or receiving an event twice, changes nothing.
Payloads carry what other services need (category, eligibility per mission, roles, cells)
and never a secret nor personal contact data (e-mails stay in the accounts service).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dinamis_contracts.base import Payload

SOURCE = "/dinamis/accounts"

# --- entities (subscribed organisations) -------------------------------------------------------

ENTITY_TOPIC = "accounts.entity.events.v1"
ENTITY_SUBSCRIBED = "fr.dinamis.accounts.entity.subscribed.v1"
LICENCE_ACCEPTED = "fr.dinamis.accounts.entity.licence-accepted.v1"
ENTITY_APPROVED = "fr.dinamis.accounts.entity.approved.v1"
ENTITY_REJECTED = "fr.dinamis.accounts.entity.rejected.v1"
ENTITY_SUSPENDED = "fr.dinamis.accounts.entity.suspended.v1"
# eligibility moved without a change of status: a CNES / Airbus review of a foreign entity
# after approval, or a new licence version that the entity has not accepted yet
ENTITY_ELIGIBILITY_CHANGED = "fr.dinamis.accounts.entity.eligibility-changed.v1"

Mission = Literal["pleiades", "spot-6-7"]
# who the entity is (drives eligibility and the reviews it needs)
SubscriptionCategory = Literal[
    "public-body",  # French State, ministries, regions, départements, municipalities, agencies
    "research-education",  # universities, research organisations and labs, schools
    "non-profit",  # non-profits with a public-service mission
    "private-public-contract",  # French private company working for a public actor (contract reference)
    "private-rnd",  # French private company, for its own R&D
    "foreign-scientific",  # foreign scientific organisation with a French partner entity
    "european-lab",  # European laboratory (Pléiades only)
]
# what drives routing to a cell and prices; tokens carry it as the ``entity_category`` claim
EntityKind = Literal["scientific", "institutional"]
EntityStatus = Literal["subscribed", "awaiting-review", "approved", "rejected", "suspended"]


class EntitySnapshot(Payload):
    entity_id: str
    name: str
    category: SubscriptionCategory
    kind: EntityKind
    country: str
    status: EntityStatus
    eligible_missions: list[Mission]
    version: int


class EntitySubscribedV1(EntitySnapshot):
    subscribed_at: datetime


class AcceptedDocument(Payload):
    document_id: str
    version: str
    sha256: str


class LicenceAcceptedV1(EntitySnapshot):
    documents: list[AcceptedDocument]
    accepted_at: datetime


class EntityApprovedV1(EntitySnapshot):
    approved_by: str
    approved_at: datetime
    certificate_serial: str


class EntityRejectedV1(EntitySnapshot):
    rejected_by: str
    rejected_at: datetime
    reason: str


class EntitySuspendedV1(EntitySnapshot):
    suspended_by: str
    suspended_at: datetime
    reason: str


class EntityEligibilityChangedV1(EntitySnapshot):
    changed_at: datetime
    reason: str


# --- the Charter and the User Licences ---------------------------------------------------------

DOCUMENT_TOPIC = "accounts.document.events.v1"
DOCUMENT_PUBLISHED = "fr.dinamis.accounts.document.published.v1"


class DocumentPublishedV1(Payload):
    """A version of the Charter or of a User Licence is now the current one; entities that have
    not accepted it lose eligibility for the missions it governs until they do."""

    document_id: str
    version: str
    title: str
    sha256: str
    missions: list[Mission]
    published_at: datetime


# --- users (people attached to an entity) ------------------------------------------------------

USER_TOPIC = "accounts.user.events.v1"
USER_REQUESTED = "fr.dinamis.accounts.user.requested.v1"
USER_ACTIVATED = "fr.dinamis.accounts.user.activated.v1"
USER_DEACTIVATED = "fr.dinamis.accounts.user.deactivated.v1"
USER_ROLES_CHANGED = "fr.dinamis.accounts.user.roles-changed.v1"
IDENTITY_LINKED = "fr.dinamis.accounts.identity.linked.v1"

Role = Literal["user", "correspondent", "arbiter", "operator", "admin"]
Cell = Literal["pleiades-science", "institutional", "spot-science"]
UserStatus = Literal["requested", "active", "inactive"]


class UserSnapshot(Payload):
    user_id: str
    entity_id: str | None
    status: UserStatus
    roles: list[Role]
    cells: list[Cell]
    linked_identities: list[str]
    version: int


class UserRequestedV1(UserSnapshot):
    requested_at: datetime


class UserActivatedV1(UserSnapshot):
    activated_by: str
    activated_at: datetime


class UserDeactivatedV1(UserSnapshot):
    deactivated_by: str
    deactivated_at: datetime
    reason: str


class UserRolesChangedV1(UserSnapshot):
    previous_roles: list[Role]
    previous_cells: list[Cell]
    changed_by: str
    changed_at: datetime
    reason: str


class IdentityLinkedV1(UserSnapshot):
    provider: str  # the identity provider's alias in the realm: theia, geosud, a federation
    linked_at: datetime
