"""Which headers cross the gateway. Hop-by-hop headers (RFC 9110 §7.6.1, and any the
``Connection`` header names) never do. Towards the service the gateway sets its own request id
and the forwarding headers; towards the caller it drops the service's ``date``, ``server`` and
``x-request-id``, which its own server and request-id layer set once. The body is relayed byte for
byte, so the service's ``content-length`` still holds (unless it was chunked: then the gateway's
server frames the body again); towards the service httpx sets it from the body."""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[str, str]]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade"})
SET_BY_GATEWAY_UPSTREAM = frozenset({"x-request-id", "x-forwarded-for", "x-forwarded-proto"})
SET_BY_GATEWAY_DOWNSTREAM = frozenset({"date", "server", "x-request-id"})


def _not_crossing(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    named = {token.strip().lower() for name, value in headers if name.lower() == "connection"
             for token in value.split(",")}
    return HOP_BY_HOP | named


def to_upstream(headers: Iterable[tuple[str, str]], request_id: str, scheme: str, client_host: str | None) -> Headers:
    headers = list(headers)
    dropped = _not_crossing(headers) | SET_BY_GATEWAY_UPSTREAM | {"content-length"}
    kept = [(k, v) for k, v in headers if k.lower() not in dropped]
    prior = ", ".join(v for k, v in headers if k.lower() == "x-forwarded-for")
    kept += [("x-request-id", request_id), ("x-forwarded-proto", scheme)]
    if client_host:
        kept.append(("x-forwarded-for", f"{prior}, {client_host}" if prior else client_host))
    elif prior:
        kept.append(("x-forwarded-for", prior))
    return kept


def to_client(headers: Iterable[tuple[str, str]]) -> Headers:
    headers = list(headers)
    dropped = _not_crossing(headers) | SET_BY_GATEWAY_DOWNSTREAM
    if any(k.lower() == "transfer-encoding" for k, _ in headers):
        dropped |= {"content-length"}
    return [(k, v) for k, v in headers if k.lower() not in dropped]
