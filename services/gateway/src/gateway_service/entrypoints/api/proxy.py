"""Routes: ``/api/<service>/...`` (bearer token required, verified here and again by the
service), ``/api/<service>/public/...`` (no token) and ``/stac/...`` (public catalogue
discovery); the rules are in :mod:`gateway_service.domain.routing`."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import Unauthorized, bearer_token
from fastapi import APIRouter, Path, Request, Response

from gateway_service.domain.routing import Route, api_route, stac_route
from gateway_service.entrypoints.api.relay import relay
from gateway_service.entrypoints.deps import Access, Ctx, Verifier
from gateway_service.service_layer.context import Gateway

router = APIRouter(include_in_schema=False)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{service}/{path:path}", methods=METHODS)
@router.api_route("/api/{service}", methods=METHODS)
async def api(request: Request, ctx: Ctx, verifier: Verifier, access: Access,
              service: Annotated[str, Path(max_length=32)]) -> Response:
    """Any authenticated caller (anyone under ``public/``); each service then checks roles and
    ownership itself. Counted against the rate limits once the token is verified (its user's
    counter too); a call whose token is refused still counts for its address."""
    route = access.route = api_route(service, request.path_params.get("path", ""), ctx.services)
    if not route.public:
        try:
            principal = await verifier.verify(bearer_token(request.headers.get("authorization")))
        except Unauthorized:
            await admit(request, ctx, route, None)
            raise
        access.user = principal.subject
    await admit(request, ctx, route, access.user)
    return await relay(request, ctx, route, access)


@router.api_route("/stac", methods=["GET", "POST"])
@router.api_route("/stac/{path:path}", methods=["GET", "POST"])
async def stac(request: Request, ctx: Ctx, access: Access) -> Response:
    """Public: catalogue discovery needs no token."""
    route = access.route = stac_route(request.path_params.get("path", ""))
    await admit(request, ctx, route, None)
    return await relay(request, ctx, route, access)


async def admit(request: Request, ctx: Gateway, route: Route, user: str | None) -> None:
    """Raises ``RateLimited`` (429), ``LimitsUnavailable`` (503) or ``BodyTooLarge`` (413)."""
    if ctx.limiter is not None:
        client = request.client.host if request.client else "unknown"
        await ctx.limiter.admit_call(request.method, route.path, client, user, request.body)
