"""The visible page(s) of the membership certificate, drawn with reportlab from ``CertificateFacts``.

Bilingual (French / English), A4, one page for a usual entity (a second one when many documents
were accepted). Reportlab's ``invariant`` mode makes the output depend only on the facts, so the
same facts always give the same visible content. The standard PDF fonts cover French and the
other Latin-1 languages; a character outside them is drawn as a box. Signing is not done here
(see ``certificate.py``).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounts_service.domain.certificate import CertificateFacts

TITLE = "Certificat d'adhésion DINAMIS / DINAMIS membership certificate"
MISSIONS = {"pleiades": "Pléiades", "spot-6-7": "SPOT 6/7"}
KINDS = {"scientific": "scientifique / scientific", "institutional": "institutionnel / institutional"}
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN

_base = getSampleStyleSheet()
_TITLE = ParagraphStyle("title", parent=_base["Title"], fontSize=15, leading=19)
_HEAD = ParagraphStyle("head", parent=_base["Heading3"], spaceBefore=8, spaceAfter=4)
_BODY = ParagraphStyle("body", parent=_base["BodyText"], fontSize=9, leading=12)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8, leading=10)
_GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
])


def utc(moment: datetime) -> str:
    """ISO 8601, UTC, to the second: 2026-03-02T09:15:00Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _entity(facts: CertificateFacts) -> Table:
    rows = [
        ("Entité / Entity", facts.entity_name),
        ("Identifiant / Identifier", facts.identifier or "—"),
        ("Catégorie / Category", facts.category_label),
        ("Nature / Kind", KINDS.get(facts.kind, facts.kind)),
        ("Pays / Country", facts.country),
        ("Représentant légal / Legal representative", facts.legal_representative),
        ("Référence DINAMIS / DINAMIS reference", facts.entity_id),
    ]
    table = Table([[_p(k), _p(v)] for k, v in rows], colWidths=[62 * mm, WIDTH - 62 * mm])
    table.setStyle(_GRID)
    return table


def _acceptances(facts: CertificateFacts) -> Table:
    rows: list[list] = [[_p("Document"), _p("Version"), _p("Accepté le / Accepted at (UTC)"), _p("Par / By")]]
    spans = []
    for doc in facts.acceptances:
        rows.append([_p(f"{doc.title} ({doc.document_id})"), _p(doc.version), _p(utc(doc.accepted_at)),
                     _p(doc.accepted_by)])
        detail = (f'SHA-256 : <font name="Courier">{escape(doc.sha256)}</font><br/>'
                  f"Origine / Origin : {escape(doc.origin)}")
        rows.append([Paragraph(detail, _CELL), "", "", ""])
        spans.append(("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)))
    table = Table(rows, colWidths=[62 * mm, 22 * mm, 45 * mm, WIDTH - 129 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        *spans,
    ]))
    return table


def render(facts: CertificateFacts) -> bytes:
    """The unsigned certificate, as PDF bytes."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, invariant=1, title=f"{TITLE} — {facts.serial}",
                            author="DINAMIS", subject=facts.entity_name, creator="DINAMIS accounts service")
    missions = ", ".join(MISSIONS.get(m, m) for m in facts.eligible_missions) or "—"
    approved = f"{utc(facts.approved_at)} — {facts.approved_by}"
    story = [
        _p(TITLE, _TITLE),
        _p(f"N° / Serial : {facts.serial}", _BODY),
        Spacer(1, 4 * mm),
        _p("DINAMIS certifie que l'entité ci-dessous est adhérente du dispositif DINAMIS, son représentant légal "
           "ayant accepté les documents listés. / DINAMIS certifies that the entity below is a member of DINAMIS, "
           "its legal representative having accepted the documents listed.", _BODY),
        _p("Entité / Entity", _HEAD), _entity(facts),
        _p("Documents acceptés / Accepted documents", _HEAD), _acceptances(facts),
        _p("Missions éligibles / Eligible missions", _HEAD), _p(missions, _BODY),
        _p("Approbation / Approval (UTC)", _HEAD), _p(approved, _BODY),
        Spacer(1, 6 * mm),
        _p("Ce document est signé électroniquement (PAdES) par DINAMIS ; toute modification invalide la signature. "
           "/ This document is electronically signed (PAdES) by DINAMIS; any change invalidates the signature.",
           _BODY),
    ]

    def footer(canvas, document) -> None:
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, MARGIN / 2, f"DINAMIS — {facts.serial} — page {document.page}")

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
