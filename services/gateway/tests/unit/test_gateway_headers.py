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


def test_the_service_gets_the_gateways_request_id_and_where_the_call_came_from():
    sent = to_upstream([("authorization", "Bearer t"), ("x-request-id", "from-caller"), ("connection", "close"),
                        ("te", "trailers"), ("content-length", "3"), ("x-forwarded-for", "10.0.0.1"),
                        ("idempotency-key", "k1")],
                       request_id="gw-1", scheme="https", client_host="192.0.2.7")
    assert sorted(sent) == sorted([("authorization", "Bearer t"), ("idempotency-key", "k1"), ("x-request-id", "gw-1"),
                                   ("x-forwarded-proto", "https"), ("x-forwarded-for", "10.0.0.1, 192.0.2.7")])
    assert names(sent).count("x-request-id") == 1


def test_without_a_client_address_the_prior_chain_is_kept():
    sent = to_upstream([("x-forwarded-for", "10.0.0.1")], request_id="r", scheme="http", client_host=None)
    assert ("x-forwarded-for", "10.0.0.1") in sent
