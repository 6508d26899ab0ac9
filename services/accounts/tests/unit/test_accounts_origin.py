"""The origin recorded with a legal acceptance is the caller's address as the server saw it: a
forged ``X-Forwarded-For`` changes it only when it comes from a trusted proxy (the gateway), which
the server decides (``FORWARDED_ALLOW_IPS``, nobody by default)."""

from __future__ import annotations

from accounts_service.entrypoints.deps import origin
from accounts_service.settings import Settings
from dinamis_common.runtime import server_config
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

FORGED = [(b"x-forwarded-for", b"198.51.100.66"), (b"user-agent", b"curl/8")]


async def test_a_forwarded_for_header_is_not_believed_by_the_service_itself():
    request = Request({"type": "http", "client": ("10.0.0.9", 51000), "headers": FORGED})
    found = await origin(request)
    assert (found.address, found.user_agent) == ("10.0.0.9", "curl/8")


async def _seen_through(trusted: str, peer: str) -> str:
    seen: dict = {}

    async def app(scope, receive, send):
        seen["origin"] = await origin(Request(scope))

    config = server_config(object(), Settings(forwarded_allow_ips=trusted))
    middleware = ProxyHeadersMiddleware(app, trusted_hosts=config.forwarded_allow_ips or []) \
        if config.proxy_headers else app
    await middleware({"type": "http", "client": (peer, 51000), "headers": FORGED, "scheme": "http"}, None, None)
    return seen["origin"].address


async def test_only_the_trusted_gateway_names_the_client():
    assert await _seen_through("", "127.0.0.1") == "127.0.0.1"  # the default: nobody is believed
    assert await _seen_through("10.0.0.5", "127.0.0.1") == "127.0.0.1"  # a local process is not the gateway
    assert await _seen_through("10.0.0.5", "10.0.0.5") == "198.51.100.66"  # the gateway names its client
