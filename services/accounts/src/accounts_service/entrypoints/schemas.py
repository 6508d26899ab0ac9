"""HTTP schemas of the accounts API (``<Entity>Create`` / ``<Entity>Public``). Every string has a
size limit; unknown fields are refused so a typo says what is wrong instead of being ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from accounts_service.domain.entity import Entity
from accounts_service.domain.user import User

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Token = Annotated[str, StringConstraints(min_length=16, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionCreate(Strict):
    email: EmailStr
    first_name: Name
    last_name: Name


class LinkUse(Strict):
    token: Token


class PersonCreate(Strict):
    first_name: Name
    last_name: Name
    email: EmailStr
    role: Name = Field(description="e.g. Director, President, Mayor")


class EntityDescription(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    category: Literal["public-body", "research-education", "non-profit", "private-public-contract", "private-rnd",
                      "foreign-scientific", "european-lab"]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(description="ISO 3166-1 alpha-2")
    sector: Text = ""
    identifier_scheme: Literal["siret", "siren", "rna", ""] = ""
    identifier: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    contract_reference: Text = ""
    partner_entity_id: Annotated[str, StringConstraints(max_length=64)] = ""
    legal_representative: PersonCreate


class DocumentRef(Strict):
    document_id: Id
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AcceptanceCreate(Strict):
    token: Token
    signatory: Name = Field(description="the legal representative's name, as they sign")
    documents: list[DocumentRef] = Field(max_length=10)


class ReviewCreate(Strict):
    reviewer: Literal["dinamis", "cnes", "airbus"]
    decision: Literal["approve", "reject"]
    reason: Text = ""


class ReasonCreate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AccountRequestCreate(Strict):
    email: EmailStr
    first_name: Name
    last_name: Name
    entity_id: Id


class RolesUpdate(Strict):
    roles: list[Literal["user", "correspondent", "arbiter", "operator", "admin"]] = Field(max_length=5)
    cells: list[Literal["pleiades-science", "institutional", "spot-science"]] = Field(default=[], max_length=3)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class DocumentCreate(Strict):
    document_id: Literal["dinamis-charter", "licence-pleiades", "licence-spot-6-7"]
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]


# --- answers --------------------------------------------------------------------------------------

class SubscriptionStarted(BaseModel):
    subscription_id: str
    status: str
    message: str


class EditGrant(BaseModel):
    subscription_id: str
    edit_token: str = Field(description="send as X-Subscription-Token to describe the entity")
    expires_at: datetime


class DocumentPublic(BaseModel):
    document_id: str
    version: str
    title: str
    sha256: str
    published_at: datetime
    url: str


class AcceptancePublic(BaseModel):
    document_id: str
    version: str
    sha256: str
    accepted_at: datetime
    accepted_by: str
    origin: str


class ReviewPublic(BaseModel):
    reviewer: str
    decision: str
    by: str
    at: datetime
    reason: str


class EntityPublic(BaseModel):
    entity_id: str
    status: str
    name: str
    category: str
    kind: str | None
    country: str
    identifier: str
    eligible_missions: list[str]
    acceptances: list[AcceptancePublic]
    reviews: list[ReviewPublic]
    certificate_serial: str

    @classmethod
    def of(cls, e: Entity) -> EntityPublic:
        return cls(entity_id=e.id, status=e.status, name=e.name, category=e.category_id,
                   kind=e.kind if e.category_id else None, country=e.country,
                   identifier=e.identifier.display() if e.identifier else "", eligible_missions=e.eligible_missions,
                   acceptances=[AcceptancePublic(**a.__dict__) for a in e.acceptances],
                   reviews=[ReviewPublic(**r.__dict__) for r in e.reviews.values()],
                   certificate_serial=e.certificate_serial)


class AcceptanceRequest(BaseModel):
    entity_id: str
    entity_name: str
    legal_representative: str
    documents: list[DocumentPublic]


class RoleChangePublic(BaseModel):
    roles: list[str]
    cells: list[str]
    previous_roles: list[str]
    previous_cells: list[str]
    by: str
    at: datetime
    reason: str


class UserPublic(BaseModel):
    user_id: str
    email: str
    first_name: str
    last_name: str
    entity_id: str | None
    status: str
    roles: list[str]
    cells: list[str]
    linked_identities: dict[str, str]
    role_history: list[RoleChangePublic]
    identity_problem: str | None = Field(
        default=None, description="why the identity provider refused this account as it is (a person must act: "
        "e.g. its e-mail belongs to another sign-in); cleared once it takes it")

    @classmethod
    def of(cls, u: User) -> UserPublic:
        return cls(user_id=u.id, email=u.email, first_name=u.first_name, last_name=u.last_name,
                   entity_id=u.entity_id, status=u.status, roles=u.roles, cells=u.cells,
                   linked_identities={p: i.username for p, i in u.linked.items()},
                   role_history=[RoleChangePublic(**a.__dict__) for a in u.audit],
                   identity_problem=u.identity_problem)


class CertificateCheckPublic(BaseModel):
    valid: bool
    intact: bool
    trusted: bool
    registered: bool = Field(description="DINAMIS issued this very certificate to this entity")
    signer: str | None
    signed_at: datetime | None
    serial: str | None
    entity_id: str | None
    problems: list[str]
