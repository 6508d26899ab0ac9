"""``/api/requests``: submit a request, read one, list those one may see; answer the cell, cancel."""

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
from requests_service.entrypoints.deps import BearerToken, Ctx, CurrentActor
from requests_service.service_layer import handlers

router = APIRouter(prefix="/api/requests", tags=["requests"])


@router.post("", status_code=201, response_model=RequestPublic,
             summary="Submit an archive or tasking request (a member of an approved entity eligible for the "
                     "mission, for themself); it keeps the quote it was submitted with")
async def submit_request(
    body: RequestCreate,
    ctx: Ctx,
    actor: CurrentActor,
    token: BearerToken,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestPublic:
    cmd = handlers.SubmitRequest(body=body.model_dump(mode="json", exclude_none=True), actor=actor, token=token,
                                 idempotency_key=idempotency_key)
    created, is_new = await handlers.submit(ctx, cmd)
    if not is_new:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/requests/{created.id}"
    return RequestPublic.of(created, await handlers.queue_place(ctx, created, token))


@router.get("/{request_id}", response_model=RequestPublic,
            summary="One request, with its place in the cell's queue while in review (members of the requester's "
                    "entity; arbiters of its cell; operators and admins)")
async def get_request(request_id: Annotated[str, Path(max_length=64)], ctx: Ctx, actor: CurrentActor,
                      token: BearerToken) -> RequestPublic:
    found = await handlers.visible_request(ctx, request_id, actor)
    return RequestPublic.of(found, await handlers.queue_place(ctx, found, token))


@router.get("", response_model=RequestPage,
            summary="Requests newest first: a requester's entity's; an arbiter's cells' (or ?cell= one of them); "
                    "all, or ?cell=, for operators and admins")
async def list_requests(
    ctx: Ctx,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: datetime | None = None,
    cell: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> RequestPage:
    items = await handlers.visible_requests(ctx, actor, cell, limit, before)
    next_before = items[-1].submitted_at if len(items) == limit else None
    return RequestPage(items=[RequestPublic.of(r) for r in items], next_before=next_before)


@router.post("/{request_id}/information", response_model=RequestPublic,
             summary="Answer the cell's question (the requester, while information is requested): back to review")
async def provide_information(request_id: Annotated[str, Path(max_length=64)], body: InformationCreate, ctx: Ctx,
                              actor: CurrentActor) -> RequestPublic:
    return RequestPublic.of(await handlers.provide_information(ctx, request_id, actor, body.answer))


@router.post("/{request_id}/cancel", response_model=RequestPublic,
             summary="Cancel the request (the requester, before it is ordered; a tasking until 48 h before its "
                     "window, as configured); cancelling again changes nothing")
async def cancel_request(request_id: Annotated[str, Path(max_length=64)], body: CancellationCreate, ctx: Ctx,
                         actor: CurrentActor) -> RequestPublic:
    return RequestPublic.of(await handlers.cancel(ctx, request_id, actor, body.reason))
