"""The Charter and the User Licences: read them (anyone), publish a new version (administrators).
Publishing is one write; asking every concerned entity to accept it again follows from its event."""

from __future__ import annotations

from accounts_service.domain.access import Actor, must_be_admin
from accounts_service.domain.documents import CHARTER, LICENCES, LegalDocument
from accounts_service.domain.errors import Conflict, InvalidInput, NotFound
from accounts_service.service_layer.context import Accounts

KNOWN = (CHARTER, *LICENCES.values())


async def publish(ctx: Accounts, document_id: str, version: str, title: str, text: str, actor: Actor) -> LegalDocument:
    must_be_admin(actor)
    if document_id not in KNOWN:
        raise InvalidInput(f"unknown document {document_id!r}: one of {', '.join(KNOWN)}")
    if not text.strip() or not title.strip() or not version.strip():
        raise InvalidInput("a document has a version, a title and a text")
    document = LegalDocument(document_id, version.strip(), title.strip(), text, ctx.clock())
    if not await ctx.documents.add(document):
        raise Conflict(f"{document_id} version {version} exists already: publish a new version")
    return document


async def find(ctx: Accounts, document_id: str, version: str) -> LegalDocument:
    for doc in await ctx.documents.all():
        if (doc.document_id, doc.version) == (document_id, version):
            return doc
    raise NotFound(f"no document {document_id} version {version}")


async def current(ctx: Accounts) -> list[LegalDocument]:
    return sorted((await ctx.current_documents()).values(), key=lambda d: KNOWN.index(d.document_id))
