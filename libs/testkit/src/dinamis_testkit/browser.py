"""A browser-like HTTP client for identity-provider pages: cookies kept as a browser keeps them
on loopback, the action of an HTML form."""

from __future__ import annotations

import email.message
import html
import http.cookiejar
import re
import urllib.parse
import urllib.request
from typing import Any

import httpx


class _LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://127.0.0.1 and http://localhost as secure contexts and send
    ``Secure`` cookies there; Python's cookie jar does not. Keycloak marks its login-session
    cookies ``Secure``, so a test driving its pages needs a browser's rule."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        host = urllib.parse.urlparse(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost", "::1") or super().return_ok_secure(cookie, request)


class _BrowserCookies(httpx.AsyncBaseTransport):
    """Keeps cookies in its own jar with the browser's rule (httpx copies a client's jar into
    one with the default policy for every request, so a policy set on it would be lost)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.jar = http.cookiejar.CookieJar(_LoopbackIsSecure())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        compat = urllib.request.Request(str(request.url), method=request.method)  # noqa: S310 - never opened
        self.jar.add_cookie_header(compat)
        if compat.has_header("Cookie"):
            request.headers["cookie"] = compat.get_header("Cookie")
        response = await self.inner.handle_async_request(request)
        headers = email.message.Message()
        for name, value in response.headers.multi_items():
            headers[name] = value
        self.jar.extract_cookies(_Info(headers), compat)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Info:
    def __init__(self, headers: email.message.Message) -> None:
        self.headers = headers

    def info(self) -> email.message.Message:
        return self.headers


def browser(**kwargs: Any) -> httpx.AsyncClient:
    """An HTTP client that keeps cookies the way a browser does on loopback (no redirects
    followed: tests look at each hop)."""
    return httpx.AsyncClient(timeout=30, transport=_BrowserCookies(), **kwargs)


def form_action(page: str) -> str:
    """The ``action`` of the first form on an HTML page (Keycloak's login and consent pages)."""
    found = re.search(r'<form[^>]*\baction="([^"]+)"', page)
    if found is None:
        raise AssertionError(f"no form on this page: {page[:300]}")
    return html.unescape(found[1])
