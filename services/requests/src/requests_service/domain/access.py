"""Who asks: the requester as this service knows them from their token, and who may read a request."""

from __future__ import annotations

from dataclasses import dataclass

STAFF = frozenset({"admin", "operator", "arbiter"})


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    entity_id: str | None  # the subscribed entity the person belongs to, if any
    roles: frozenset[str]
