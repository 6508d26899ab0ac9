"""Routes: ``/api/<service>/...`` (bearer token required, verified here and again by the
service), ``/api/<service>/public/...`` (no token) and ``/stac/...`` (public catalogue
discovery); the rules are in :mod:`gateway_service.domain.routing`."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import bearer_token
from fastapi import APIRouter, Path, Request, Response

from gateway_service.domain.routing import api_route, stac_route
from gateway_service.entrypoints.api.relay import relay
from gateway_service.entrypoints.deps import Access, Ctx, Verifier

router = APIRouter(include_in_schema=False)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{service}/{path:path}", methods=METHODS)
@router.api_route("/api/{service}", methods=METHODS)
async def api(request: Request, ctx: Ctx, verifier: Verifier, access: Access,
              service: Annotated[str, Path(max_length=32)]) -> Response:
    """Any authenticated caller (anyone under ``public/``); each service then checks roles and
    ownership itself."""
    route = access.route = api_route(service, request.path_params.get("path", ""), ctx.services)
    if not route.public:
        principal = await verifier.verify(bearer_token(request.headers.get("authorization")))
        access.user = principal.subject
    return await relay(request, ctx, route, access)


@router.api_route("/stac", methods=["GET", "POST"])
@router.api_route("/stac/{path:path}", methods=["GET", "POST"])
async def stac(request: Request, ctx: Ctx, access: Access) -> Response:
    """Public: catalogue discovery needs no token."""
    route = access.route = stac_route(request.path_params.get("path", ""))
    return await relay(request, ctx, route, access)
