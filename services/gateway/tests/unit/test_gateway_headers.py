"""One of each header: the service's date, server and request id never reach the caller beside
the gateway's own, and hop-by-hop headers cross in neither direction."""

from __future__ import annotations

from gateway_service.domain.headers import to_client, to_upstream


def names(headers):
    return [k.lower() for k, _ in headers]


def test_the_services_date_server_request_id_and_hop_by_hop_headers_stay_behind():
    answer = [("Date", "Mon"), ("server", "uvicorn"), ("x-request-id", "svc"), ("content-type", "application/json"),
              ("Connection", "keep-alive, x-trace-hop"), ("keep-alive", "timeout=5"), ("x-trace-hop", "1"),
              ("transfer-encoding", "chunked"), ("content-length", "12"), ("location", "/api/requests/1")]
    assert to_client(answer) == [("content-type", "application/json"), ("location", "/api/requests/1")]


def test_the_length_of_a_body_relayed_byte_for_byte_still_holds():
    assert to_client([("content-length", "12"), ("content-encoding", "gzip")]) == [
        ("content-length", "12"), ("content-encoding", "gzip")]


def test_repeated_headers_such_as_cookies_all_cross():
    answer = [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("vary", "accept")]
    assert to_client(answer) == answer


def test_the_service_gets_the_gateways_request_id_the_public_origin_and_the_client_address():
    sent = to_upstream([("authorization", "Bearer t"), ("x-request-id", "from-caller"), ("connection", "close"),
                        ("te", "trailers"), ("content-length", "3"), ("x-forwarded-for", "10.0.0.1"),
                        ("idempotency-key", "k1")],
                       request_id="gw-1", client_host="192.0.2.7", public_scheme="https",
                       public_host="dinamis.example.org")
    assert sorted(sent) == sorted([("authorization", "Bearer t"), ("idempotency-key", "k1"), ("x-request-id", "gw-1"),
                                   ("x-forwarded-proto", "https"), ("x-forwarded-host", "dinamis.example.org"),
                                   ("x-forwarded-for", "192.0.2.7")])
    assert names(sent).count("x-request-id") == 1


def test_what_the_caller_says_about_where_it_called_never_crosses():
    forged = [("Host", "evil.example"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "gopher"),
              ("X-Forwarded-Port", "1"), ("X-Forwarded-Prefix", "/x"), ("Forwarded", "host=evil.example;proto=http"),
              ("X-Real-IP", "10.9.9.9"), ("X-Original-URL", "/admin"), ("X-Forwarded-For", "10.9.9.9"),
              ("accept", "application/json")]
    sent = to_upstream(forged, request_id="r", client_host="192.0.2.7", public_scheme="https",
                       public_host="dinamis.example.org")
    assert sorted(sent) == sorted([("accept", "application/json"), ("x-request-id", "r"),
                                   ("x-forwarded-proto", "https"), ("x-forwarded-host", "dinamis.example.org"),
                                   ("x-forwarded-for", "192.0.2.7")])


def test_without_a_client_address_no_claimed_address_crosses():
    sent = to_upstream([("x-forwarded-for", "10.0.0.1")], request_id="r", client_host=None, public_scheme="http",
                       public_host="h")
    assert "x-forwarded-for" not in names(sent)
