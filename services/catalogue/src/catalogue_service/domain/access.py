"""Who may see what: the STAC catalogue is public (as DINAMIS's is); acquisitions in progress are
for the supply operators and the administrators."""

from __future__ import annotations

from dataclasses import dataclass

ACQUISITION_READERS = ("operator", "admin")


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    roles: frozenset[str]
