"""The documents a legal representative accepts: the DINAMIS Charter and one User Licence per
mission, each versioned and identified by the SHA-256 of its text. An acceptance names the
version and the hash it saw; a newer version of a document must be accepted again before the
entity may order under it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from accounts_service.domain.categories import MISSIONS, Category

CHARTER = "dinamis-charter"
LICENCES = {mission: f"licence-{mission}" for mission in MISSIONS}


@dataclass(frozen=True)
class LegalDocument:
    document_id: str
    version: str
    title: str
    text: str
    published_at: datetime

    @property
    def sha256(self) -> str:
        return sha256_of(self.text)

    @property
    def ref(self) -> tuple[str, str, str]:
        return self.document_id, self.version, self.sha256


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def governs(document_id: str) -> tuple[str, ...]:
    """The missions an entity cannot order without having accepted this document."""
    if document_id == CHARTER:
        return MISSIONS
    return tuple(m for m, d in LICENCES.items() if d == document_id)


def required_for(cat: Category) -> tuple[str, ...]:
    """What the legal representative of an entity of this category accepts."""
    return (CHARTER, *(LICENCES[m] for m in cat.missions))


def current(documents: list[LegalDocument]) -> dict[str, LegalDocument]:
    """The newest published version of each document."""
    newest: dict[str, LegalDocument] = {}
    for doc in sorted(documents, key=lambda d: (d.published_at, d.version)):
        newest[doc.document_id] = doc
    return newest
