"""Who may read order intents: the supply operators and the administrators."""

from __future__ import annotations

from dataclasses import dataclass

ORDER_READERS = ("operator", "admin")


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    roles: frozenset[str]
