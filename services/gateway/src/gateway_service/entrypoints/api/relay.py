"""From an HTTP request to a forwarded call, and from the service's answer (or its absence)
back to HTTP: the answer streamed through with one of each header, or 503 with ``Retry-After`` /
504 with a message in the project's error format."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gateway_service.domain.errors import UpstreamError, UpstreamTimeout
from gateway_service.domain.headers import to_client, to_upstream
from gateway_service.domain.routing import Route
from gateway_service.entrypoints.access_log import AccessRecord
from gateway_service.service_layer.context import Gateway
from gateway_service.service_layer.forwarding import forward
from gateway_service.service_layer.ports import Answer, Call

RETRY_AFTER_SECONDS = 1


async def relay(request: Request, ctx: Gateway, route: Route, access: AccessRecord) -> Response:
    # The path as received (still percent-encoded), so that what the service decodes is what the
    # caller sent; the routing rules were applied to the decoded one.
    raw_path = request.scope.get("raw_path")
    call = Call(
        method=request.method,
        path=raw_path.decode("latin-1") if raw_path else route.path,
        query=request.scope.get("query_string", b""),
        headers=to_upstream(request.headers.items(), request.state.request_id,
                            request.client.host if request.client else None, ctx.public_scheme, ctx.public_host),
        body=await request.body(),
    )
    try:
        forwarded = await forward(ctx, route.service, call)
    except UpstreamError as exc:
        access.attempts = exc.attempts
        return refusal(exc)
    access.attempts = forwarded.attempts
    return Relayed(forwarded.answer)


def refusal(exc: UpstreamError) -> JSONResponse:
    if isinstance(exc, UpstreamTimeout):
        return JSONResponse({"error": "UpstreamTimeout", "message": str(exc)}, status_code=504)
    return JSONResponse({"error": "UpstreamUnavailable", "message": f"{exc}; try again in {RETRY_AFTER_SECONDS} s"},
                        status_code=503, headers={"retry-after": str(RETRY_AFTER_SECONDS)})


class Relayed(Response):
    """The service's answer streamed to the caller; its connection is given back to the pool
    however the streaming ends (a caller who leaves included)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.status_code = answer.status
        self.background = None
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in to_client(answer.headers)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self.answer.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self.answer.close()
