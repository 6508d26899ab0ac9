"""What every use case gets: the repositories, the outside services, the clock and the rules'
settings; and the optimistic-concurrency loop every change of an aggregate goes through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from accounts_service.domain.documents import LegalDocument, current
from accounts_service.domain.errors import ConcurrentUpdate
from accounts_service.service_layer.ports import (
    CertificateIssuer,
    CertificateStore,
    DocumentRepository,
    EntityRepository,
    IdentityProvider,
    UserRepository,
)

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Rules:
    portal_url: str = "http://127.0.0.1:8000"
    verification_ttl: timedelta = timedelta(hours=24)
    subscription_ttl: timedelta = timedelta(hours=24)
    acceptance_ttl: timedelta = timedelta(days=14)
    # an account request or a subscription whose address was never validated (or whose entity was
    # never described) is deleted this long after it was made; longer than the links it was sent
    unconfirmed_expiry: timedelta = timedelta(hours=48)


@dataclass
class Accounts:
    entities: EntityRepository
    users: UserRepository
    documents: DocumentRepository
    certificates: CertificateIssuer
    certificate_store: CertificateStore
    identity: IdentityProvider
    rules: Rules = field(default_factory=Rules)
    clock: Callable[[], datetime] = utcnow

    async def current_documents(self) -> dict[str, LegalDocument]:
        return current(await self.documents.all())


async def retrying(attempt: Callable[[], Awaitable[T | None]], what: str, attempts: int = 5) -> T:
    """Runs ``attempt`` (load, change, save) until its save got through (``None``: someone else
    wrote first; load again)."""
    for _ in range(attempts):
        result = await attempt()
        if result is not None:
            return result
    raise ConcurrentUpdate(f"{what} kept changing while we tried to update it: try again")
