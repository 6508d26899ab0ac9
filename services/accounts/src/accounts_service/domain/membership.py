"""What an approved entity's membership certificate states, from the entity's record."""

from __future__ import annotations

from datetime import datetime

from accounts_service.domain.certificate import AcceptedDocumentFact, CertificateFacts
from accounts_service.domain.entity import Documents, Entity


def certificate_facts(entity: Entity, docs: Documents, serial: str, approved_by: str,
                      approved_at: datetime) -> CertificateFacts:
    """The latest acceptance of each document the entity needs, as recorded."""
    acceptances = []
    for doc in entity.required_documents(docs):
        accepted = [a for a in entity.acceptances if a.document_id == doc.document_id]
        if accepted:
            a = accepted[-1]
            acceptances.append(AcceptedDocumentFact(a.document_id, doc.title if a.version == doc.version
                                                    else a.document_id, a.version, a.sha256, a.accepted_at,
                                                    a.accepted_by, a.origin))
    rep = entity.legal_representative
    return CertificateFacts(
        serial=serial, entity_id=entity.id, entity_name=entity.name,
        identifier=entity.identifier.display() if entity.identifier else "",
        category_label=entity.category.label, kind=entity.kind, country=entity.country,
        legal_representative=f"{rep.name}, {rep.role}" if rep and rep.role else (rep.name if rep else ""),
        acceptances=tuple(acceptances), eligible_missions=tuple(entity.eligible_missions),
        approved_at=approved_at, approved_by=approved_by)
