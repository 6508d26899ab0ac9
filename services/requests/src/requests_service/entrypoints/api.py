"""``/api/requests``: submit a request, read one, list one's own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from dinamis_common.http import CurrentPrincipal
from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from requests_service.domain.entities import eligibility
from requests_service.domain.errors import RequestNotFound
from requests_service.entrypoints.schemas import (
    EligibilityPublic,
    MissionEligibility,
    RequestCreate,
    RequestPage,
    RequestPublic,
)
from requests_service.service_layer import handlers
from requests_service.service_layer.ports import EntityDirectory, RequestRepository

router = APIRouter(prefix="/api/requests", tags=["requests"])


def _repo(request: Request) -> RequestRepository:
    return request.app.state.repository


def _entities(request: Request) -> EntityDirectory:
    return request.app.state.entities


@router.post("", status_code=201, response_model=RequestPublic,
             summary="Submit a request (a member of an approved entity eligible for the mission, for themself)")
async def submit_request(
    body: RequestCreate,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestPublic:
    cmd = handlers.SubmitRequest(
        title=body.title, mission=body.mission, aoi=body.aoi, user_id=principal.subject,
        entity_id=principal.entity_id, idempotency_key=idempotency_key,
    )
    created, is_new = await handlers.submit(cmd, _repo(request), _entities(request))
    if not is_new:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/requests/{created.id}"
    return RequestPublic.of(created)


@router.get("/eligibility", response_model=EligibilityPublic,
            summary="Which missions the caller may request now, and why not (authenticated)")
async def my_eligibility(principal: CurrentPrincipal, request: Request) -> EligibilityPublic:
    entity = await _entities(request).get(principal.entity_id) if principal.entity_id else None
    reasons = eligibility(entity, principal.entity_id)
    return EligibilityPublic(entity_id=principal.entity_id, missions=[
        MissionEligibility(mission=m, eligible=r is None, reason=r) for m, r in reasons.items()])


@router.get("/{request_id}", response_model=RequestPublic,
            summary="One request (its requester; arbiters, operators and admins)")
async def get_request(request_id: Annotated[str, Path(max_length=64)], principal: CurrentPrincipal,
                      request: Request) -> RequestPublic:
    found = await _repo(request).get(request_id)
    if found is None or not found.visible_to(principal.subject, principal.roles):
        raise RequestNotFound(f"no request {request_id} visible to you")
    return RequestPublic.of(found)


@router.get("", response_model=RequestPage, summary="The caller's own requests, newest first (authenticated)")
async def list_requests(
    principal: CurrentPrincipal,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: datetime | None = None,
) -> RequestPage:
    items = await _repo(request).list_for_owner(principal.subject, limit, before)
    next_before = items[-1].submitted_at if len(items) == limit else None
    return RequestPage(items=[RequestPublic.of(r) for r in items], next_before=next_before)
