"""``/api/requests/quotes``: what a request would cost before submitting it (same body, nothing stored)."""

from __future__ import annotations

from fastapi import APIRouter

from requests_service.entrypoints.api.schemas import QuotePublic, RequestCreate
from requests_service.entrypoints.deps import BearerToken, Ctx, CurrentActor
from requests_service.service_layer import quotes

router = APIRouter(prefix="/api/requests/quotes", tags=["requests"])


@router.post("", response_model=QuotePublic,
             summary="Quote a request: free and over-quota km², price and who pays, invoicing minimum, overlap "
                     "offers, validity (a member of an entity eligible for the mission; nothing is stored)")
async def quote_request(body: RequestCreate, ctx: Ctx, actor: CurrentActor, token: BearerToken) -> QuotePublic:
    plain = body.model_dump(mode="json", exclude_none=True)
    return QuotePublic.of(await quotes.quote_body(ctx, plain, actor, token))
