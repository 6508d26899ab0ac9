"""``/api/accounts/public/certificates/verify``: anyone checks that a PDF is an intact DINAMIS
membership certificate, signed by DINAMIS and registered to the entity it names."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request

from accounts_service.entrypoints.deps import Ctx
from accounts_service.entrypoints.schemas import CertificateCheckPublic

router = APIRouter(prefix="/api/accounts/public/certificates", tags=["certificates (public)"])
MAX_PDF = 5 * 1024 * 1024


@router.post("/verify", response_model=CertificateCheckPublic,
             openapi_extra={"requestBody": {"content": {"application/pdf": {}}, "required": True}},
             summary="Check a membership certificate (anyone); the body is the PDF (at most 5 MiB)")
async def verify(request: Request, ctx: Ctx) -> CertificateCheckPublic:
    pdf = await request.body()
    check = await ctx.certificates.verify(pdf[: MAX_PDF + 1])
    stored = await ctx.certificate_store.get(check.serial) if check.serial else None
    registered = bool(stored and stored.entity_id == check.entity_id
                      and stored.sha256 == hashlib.sha256(pdf).hexdigest())
    problems = list(check.problems)
    if check.valid and not registered:
        problems.append("signed by DINAMIS, but not the certificate DINAMIS registered for this entity")
    return CertificateCheckPublic(valid=check.valid and registered, intact=check.intact, trusted=check.trusted,
                                  registered=registered, signer=check.signer, signed_at=check.signed_at,
                                  serial=check.serial, entity_id=check.entity_id, problems=problems)
