"""Routes: ``/api/<service>/...`` (bearer token required, verified here and again by the
service), ``/api/<service>/public/...`` (no token: what a person does before having an account,
each such call authorised by the service itself, e.g. with an e-mailed link) and ``/stac/...``
(public catalogue discovery). Responses are streamed through."""

from __future__ import annotations

from typing import Annotated

import httpx
from dinamis_common.auth import bearer_token
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

router = APIRouter()

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def forward(request: Request, base_url: str, path: str) -> StreamingResponse | JSONResponse:
    client: httpx.AsyncClient = request.app.state.http
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["x-request-id"] = request.scope.get("state", {}).get("request_id", "")
    headers["x-forwarded-proto"] = request.url.scheme
    if request.client:
        prior = request.headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{prior}, {request.client.host}" if prior else request.client.host
    upstream = client.build_request(request.method, f"{base_url}{path}", params=request.query_params,
                                    headers=headers, content=await request.body())
    try:
        response = await client.send(upstream, stream=True)
    except httpx.TimeoutException:
        return JSONResponse({"error": "UpstreamTimeout", "message": "the service did not answer in time"}, 504)
    except httpx.TransportError:
        return JSONResponse({"error": "UpstreamUnavailable", "message": "the service is unavailable"}, 502)
    return StreamingResponse(
        response.aiter_raw(), status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
        background=BackgroundTask(response.aclose),
    )


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
@router.api_route("/api/{service}", methods=METHODS, include_in_schema=False)
async def api(request: Request, service: Annotated[str, Path(max_length=32)], path: str = ""):
    """Any authenticated caller (anyone under ``public/``); each service then checks roles and
    ownership itself."""
    upstreams: dict[str, str] = request.app.state.upstreams
    if service not in upstreams:
        return JSONResponse({"error": "NotFound", "message": f"no service named {service!r}"}, 404)
    if any(segment in (".", "..") for segment in path.split("/")):
        return JSONResponse({"error": "NotFound", "message": "dot segments are not allowed in paths"}, 404)
    if not (path == "public" or path.startswith("public/")):
        await request.app.state.verifier.verify(bearer_token(request.headers.get("authorization")))
    suffix = f"/{path}" if path else ""
    return await forward(request, upstreams[service], f"/api/{service}{suffix}")


@router.api_route("/stac", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/stac/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def stac(request: Request, path: str = ""):
    """Public: catalogue discovery needs no token."""
    return await forward(request, request.app.state.upstreams["catalogue"], f"/stac/{path}" if path else "/stac")
