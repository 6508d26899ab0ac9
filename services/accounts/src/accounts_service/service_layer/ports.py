"""What the use cases need from the outside world: MongoDB repositories and Keycloak in
production, in-memory fakes in unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from accounts_service.domain.certificate import CertificateCheck, CertificateFacts
from accounts_service.domain.documents import LegalDocument
from accounts_service.domain.entity import Entity
from accounts_service.domain.user import User


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class EntityRepository(Protocol):
    async def add(self, entity: Entity, mails: Sequence[Mail] = ()) -> None:
        """Store a new entity with its events and e-mails."""

    async def get(self, entity_id: str) -> Entity | None: ...

    async def save(self, entity: Entity, mails: Sequence[Mail] = (), applied_event: str | None = None) -> bool:
        """Store the changes if nobody changed it since ``entity.version`` (and the event is new);
        raises ``Conflict`` when another live subscription has the same identifier."""

    async def list(self, status: str | None, limit: int, after: str | None) -> list[Entity]: ...

    async def find_by_siren(self, siren: str) -> list[Entity]: ...

    async def by_identity_key(self, key: str) -> Entity | None: ...

    async def expire_unconfirmed(self, created_before: datetime) -> int:
        """Deletes subscriptions started before then whose correspondent never validated their
        address or never described the entity (with what they left); how many."""


class UserRepository(Protocol):
    async def add(self, user: User, mails: Sequence[Mail] = ()) -> bool:
        """``False`` if a user with that id exists; raises ``Conflict`` if the e-mail is taken."""

    async def get(self, user_id: str) -> User | None: ...

    async def save(self, user: User, mails: Sequence[Mail] = (), applied_event: str | None = None) -> bool: ...

    async def by_keycloak_id(self, keycloak_id: str) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def expire_unconfirmed(self, created_before: datetime) -> int:
        """Deletes account requests made before then whose address was never validated; how many."""

    async def of_entity(self, entity_id: str, limit: int = 500) -> list[User]: ...


class DocumentRepository(Protocol):
    async def all(self) -> list[LegalDocument]: ...

    async def add(self, document: LegalDocument) -> bool:
        """``False`` if that version of that document exists already."""


class CertificateIssuer(Protocol):
    async def issue(self, facts: CertificateFacts) -> bytes: ...

    async def verify(self, pdf: bytes) -> CertificateCheck: ...


@dataclass(frozen=True)
class StoredCertificate:
    serial: str
    entity_id: str
    sha256: str
    issued_at: datetime
    pdf: bytes


class CertificateStore(Protocol):
    async def put(self, certificate: StoredCertificate) -> None:
        """Idempotent on the serial."""

    async def get(self, serial: str) -> StoredCertificate | None: ...


@dataclass(frozen=True)
class IdentityRecord:
    """What the identity provider knows of a person."""

    keycloak_id: str
    username: str
    email: str
    first_name: str
    last_name: str
    attributes: dict[str, list[str]]
    linked: dict[str, str]  # provider alias -> user name there


class IdentityRefused(Exception):
    """The identity provider refused the account as it is (4xx): retrying cannot help, a person must act."""

    failure_kind = "permanent"


class IdentityProvider(Protocol):
    async def push(self, user: User, entity_kind: str | None) -> tuple[str, bool]:
        """Make the provider's account match ``user`` (created if missing, enabled or not,
        attributes, realm roles); e-mail the set-password link once. Returns (provider id, invited)."""

    async def lookup(self, keycloak_id: str) -> IdentityRecord | None: ...
