"""Who may read and act on orders: the supply operators and the administrators."""

from __future__ import annotations

from dataclasses import dataclass

ORDER_READERS = ("operator", "admin")
ORDER_OPERATORS = ("operator", "admin")  # confirm, hold, cancel, retry


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    roles: frozenset[str]
