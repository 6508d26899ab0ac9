"""The Charter and the User Licences: read by anyone (``/public/documents``), a new version
published by an administrator (``/documents``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse

from accounts_service.domain.documents import LegalDocument
from accounts_service.entrypoints.deps import Ctx, CurrentActor
from accounts_service.entrypoints.schemas import DocumentCreate, DocumentPublic
from accounts_service.service_layer import documents
from accounts_service.service_layer.context import Accounts

public = APIRouter(prefix="/api/accounts/public/documents", tags=["documents (public)"])
router = APIRouter(prefix="/api/accounts/documents", tags=["documents"])


def public_document(ctx: Accounts, d: LegalDocument) -> DocumentPublic:
    url = f"{ctx.rules.portal_url.rstrip('/')}/api/accounts/public/documents/{d.document_id}/{d.version}"
    return DocumentPublic(document_id=d.document_id, version=d.version, title=d.title, sha256=d.sha256,
                          published_at=d.published_at, url=url)


@public.get("", response_model=list[DocumentPublic], summary="The current version of each document (anyone)")
async def current(ctx: Ctx) -> list[DocumentPublic]:
    return [public_document(ctx, d) for d in await documents.current(ctx)]


@public.get("/{document_id}/{version}", response_class=PlainTextResponse,
            summary="A document's text, as accepted (anyone); its SHA-256 in the X-Content-SHA256 header")
async def text(document_id: Annotated[str, Path(max_length=64)], version: Annotated[str, Path(max_length=40)],
               ctx: Ctx) -> PlainTextResponse:
    doc = await documents.find(ctx, document_id, version)
    return PlainTextResponse(doc.text, headers={"x-content-sha256": doc.sha256})


@router.post("", status_code=201, response_model=DocumentPublic,
             summary="Publish a new version (administrators); every entity concerned is asked to accept it again")
async def publish(body: DocumentCreate, ctx: Ctx, actor: CurrentActor) -> DocumentPublic:
    doc = await documents.publish(ctx, body.document_id, body.version, body.title, body.text, actor)
    return public_document(ctx, doc)
