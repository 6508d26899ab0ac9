"""What happened in the accounts domain (past tense). Translated by the adapters into wire events
(``dinamis_contracts.accounts``, no secret in them) and into e-mails (which carry the links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# --- e-mails with a link: their token exists only here and in the e-mail ------------------------

@dataclass(frozen=True)
class EmailVerificationRequested:
    email: str
    name: str
    token: str


@dataclass(frozen=True)
class AcceptanceRequested:
    legal_representative: Any  # entity.Person
    token: str
    entity_name: str
    documents: list[tuple[str, str, str]]  # id, version, sha256
    renewal: bool


# --- entity ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntitySubscribed:
    at: datetime


@dataclass(frozen=True)
class LicenceAccepted:
    documents: list[tuple[str, str, str]]
    at: datetime


@dataclass(frozen=True)
class EntityApproved:
    by: str
    at: datetime
    certificate_serial: str


@dataclass(frozen=True)
class EntityRejected:
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class EntitySuspended:
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class EligibilityChanged:
    at: datetime
    reason: str


# --- user -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserRequested:
    at: datetime


@dataclass(frozen=True)
class UserActivated:
    by: str
    at: datetime


@dataclass(frozen=True)
class UserDeactivated:
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class RolesChanged:
    previous_roles: list[str]
    previous_cells: list[str]
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class IdentityLinked:
    provider: str
    at: datetime
