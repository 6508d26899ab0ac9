"""``/api/requests``: submit a request, read one, list one's own; answer the cell, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from requests_service.entrypoints.api.schemas import (
    CancellationCreate,
    InformationCreate,
    RequestCreate,
    RequestPage,
    RequestPublic,
)
from requests_service.entrypoints.deps import Ctx, CurrentActor
from requests_service.service_layer import handlers

router = APIRouter(prefix="/api/requests", tags=["requests"])


@router.post("", status_code=201, response_model=RequestPublic,
             summary="Submit a request (a member of an approved entity eligible for the mission, for themself)")
async def submit_request(
    body: RequestCreate,
    ctx: Ctx,
    actor: CurrentActor,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestPublic:
    cmd = handlers.SubmitRequest(title=body.title, mission=body.mission, aoi=body.aoi, user_id=actor.subject,
                                 entity_id=actor.entity_id, idempotency_key=idempotency_key)
    created, is_new = await handlers.submit(ctx, cmd)
    if not is_new:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/requests/{created.id}"
    return RequestPublic.of(created)


@router.get("/{request_id}", response_model=RequestPublic,
            summary="One request (its requester; arbiters, operators and admins)")
async def get_request(request_id: Annotated[str, Path(max_length=64)], ctx: Ctx, actor: CurrentActor) -> RequestPublic:
    return RequestPublic.of(await handlers.visible_request(ctx, request_id, actor))


@router.get("", response_model=RequestPage, summary="The caller's own requests, newest first (authenticated)")
async def list_requests(
    ctx: Ctx,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: datetime | None = None,
) -> RequestPage:
    items = await handlers.own_requests(ctx, actor, limit, before)
    next_before = items[-1].submitted_at if len(items) == limit else None
    return RequestPage(items=[RequestPublic.of(r) for r in items], next_before=next_before)


@router.post("/{request_id}/information", response_model=RequestPublic,
             summary="Answer the cell's question (the requester, while information is requested): back to review")
async def provide_information(request_id: Annotated[str, Path(max_length=64)], body: InformationCreate, ctx: Ctx,
                              actor: CurrentActor) -> RequestPublic:
    return RequestPublic.of(await handlers.provide_information(ctx, request_id, actor, body.answer))


@router.post("/{request_id}/cancel", response_model=RequestPublic,
             summary="Cancel the request (the requester, before it is ordered); cancelling again changes nothing")
async def cancel_request(request_id: Annotated[str, Path(max_length=64)], body: CancellationCreate, ctx: Ctx,
                         actor: CurrentActor) -> RequestPublic:
    return RequestPublic.of(await handlers.cancel(ctx, request_id, actor, body.reason))
