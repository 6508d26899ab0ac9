"""The membership certificate: the facts a signed PDF states about an approved entity (who it is,
which versions of the Charter and User Licences its legal representative accepted, when and
from where), and the outcome of checking such a PDF.

Pure values: rendering and signing (PAdES, with pyHanko) live in ``adapters/certificate.py``,
behind the ``issue(facts) -> bytes`` / ``verify(pdf) -> CertificateCheck`` interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS = ("scientific", "institutional")


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


@dataclass(frozen=True)
class AcceptedDocumentFact:
    document_id: str  # e.g. "dinamis-charter", "licence-pleiades", "licence-spot-6-7"
    title: str  # e.g. "Charte DINAMIS"
    version: str  # e.g. "2024-06"
    sha256: str  # hex digest of the document's content
    accepted_at: datetime  # aware UTC
    accepted_by: str  # the legal representative's name
    origin: str  # where the acceptance came from, e.g. "203.0.113.7 (Mozilla/5.0 ...)"

    def __post_init__(self) -> None:
        _require_aware("accepted_at", self.accepted_at)


@dataclass(frozen=True)
class CertificateFacts:
    serial: str  # unique certificate number, e.g. "DIN-2026-0001f3a9"
    entity_id: str
    entity_name: str
    identifier: str  # e.g. "SIRET 356 000 000 00048", "RNA W751234567", "" for foreign entities
    category_label: str  # human label, e.g. "French public body"
    kind: str  # "scientific" or "institutional"
    country: str  # ISO 3166-1 alpha-2
    legal_representative: str  # "Name, role"
    acceptances: tuple[AcceptedDocumentFact, ...]
    eligible_missions: tuple[str, ...]  # "pleiades", "spot-6-7"
    approved_at: datetime
    approved_by: str

    def __post_init__(self) -> None:
        if not self.serial.strip() or not self.entity_id.strip():
            raise ValueError("a certificate needs a serial and an entity id")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        _require_aware("approved_at", self.approved_at)


@dataclass(frozen=True)
class CertificateCheck:
    valid: bool  # intact AND trusted AND it is a DINAMIS certificate (serial and entity found)
    intact: bool  # the signed bytes were not modified and nothing appended after signing changes content
    trusted: bool  # the signer's certificate chains to one of the configured trust roots
    signer: str | None  # signer certificate subject (human readable)
    signed_at: datetime | None
    serial: str | None  # read back from the signed document
    entity_id: str | None  # read back from the signed document
    problems: tuple[str, ...]  # human-readable reasons when not valid

    @classmethod
    def refused(cls, *problems: str) -> CertificateCheck:
        """The check of something that could not even be examined as a signed certificate."""
        return cls(valid=False, intact=False, trusted=False, signer=None, signed_at=None,
                   serial=None, entity_id=None, problems=problems)
