"""Which headers cross the gateway. Hop-by-hop headers (RFC 9110 §7.6.1, and any the
``Connection`` header names) never do. Towards the service the gateway sets its own request id
and the forwarding headers; towards the caller it drops the service's ``date``, ``server`` and
``x-request-id``, which its own server and request-id layer set once. The body is relayed byte for
byte, so the service's ``content-length`` still holds (unless it was chunked: then the gateway's
server frames the body again); towards the service httpx sets it from the body.

What the caller says about where it called (``Host``, ``Forwarded``, ``X-Forwarded-*``,
``X-Real-IP``…) never crosses: a service that builds a link or records an origin would believe it.
The service gets the host it is reached at (httpx sets ``Host`` from its URL), the platform's
public origin from configuration (``X-Forwarded-Proto`` / ``X-Forwarded-Host``) and the client's
address as the gateway's server saw it (``X-Forwarded-For``: one address, which a trusted proxy in
front may have told it)."""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[str, str]]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade"})
SET_BY_GATEWAY_UPSTREAM = frozenset({"x-request-id", "host", "forwarded", "x-real-ip", "x-client-ip",
                                     "true-client-ip", "x-original-host", "x-original-url", "x-rewrite-url"})
SET_BY_GATEWAY_DOWNSTREAM = frozenset({"date", "server", "x-request-id"})


def _not_crossing(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    named = {token.strip().lower() for name, value in headers if name.lower() == "connection"
             for token in value.split(",")}
    return HOP_BY_HOP | named


def to_upstream(headers: Iterable[tuple[str, str]], request_id: str, client_host: str | None,
                public_scheme: str, public_host: str) -> Headers:
    headers = list(headers)
    dropped = _not_crossing(headers) | SET_BY_GATEWAY_UPSTREAM | {"content-length"}
    kept = [(k, v) for k, v in headers if k.lower() not in dropped and not k.lower().startswith("x-forwarded-")]
    kept += [("x-request-id", request_id), ("x-forwarded-proto", public_scheme), ("x-forwarded-host", public_host)]
    if client_host:
        kept.append(("x-forwarded-for", client_host))
    return kept


def to_client(headers: Iterable[tuple[str, str]]) -> Headers:
    headers = list(headers)
    dropped = _not_crossing(headers) | SET_BY_GATEWAY_DOWNSTREAM
    if any(k.lower() == "transfer-encoding" for k, _ in headers):
        dropped |= {"content-length"}
    return [(k, v) for k, v in headers if k.lower() not in dropped]
