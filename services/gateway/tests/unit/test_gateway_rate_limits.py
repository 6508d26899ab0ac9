"""Rate limits as rules: which counters a call adds to, the sliding window's estimate and the time to
wait, the addresses read from a public accounts body, and what happens when the counters are away."""

from __future__ import annotations

import pytest
from gateway_service.domain.errors import BodyTooLarge, LimitsUnavailable, RateLimited
from gateway_service.domain.limits import (
    Count,
    Hit,
    Limit,
    Limits,
    RouteClass,
    client_subject,
    hits,
    mailbox,
    route_class,
    target_addresses,
)
from gateway_service.service_layer.ports import CountersUnavailable
from gateway_service.service_layer.rate_limiting import RateLimiter

LIMITS = Limits(ip=Limit("ip", 5, 60), user=Limit("user", 5, 60), mail_ip=Limit("mail-ip", 3, 3600, True),
                mail_address=Limit("mail-address", 2, 3600, True), certificate_ip=Limit("certificate-ip", 4, 60, True))


@pytest.mark.parametrize(("method", "path", "cls"), [
    ("POST", "/api/accounts/public/subscriptions", RouteClass.MAIL),
    ("POST", "/api/accounts/public/account-requests", RouteClass.MAIL),
    ("PUT", "/api/accounts/public/subscriptions/s1", RouteClass.MAIL),
    ("POST", "/api/accounts/public/account-requests/u1/email-verification", RouteClass.MAIL),
    ("POST", "/api/accounts/public/certificates/verify", RouteClass.CERTIFICATE),
    ("GET", "/api/accounts/public/documents/d/1", RouteClass.DEFAULT),
    ("POST", "/api/requests", RouteClass.DEFAULT),
    ("GET", "/stac/search", RouteClass.DEFAULT),
])
def test_route_classes(method, path, cls):
    assert route_class(method, path) is cls


def test_ipv6_clients_count_by_their_64_network_and_mapped_ipv4_as_ipv4():
    assert client_subject("2001:db8:1:2:aaaa::1") == client_subject("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_subject("::ffff:192.0.2.1") == client_subject("192.0.2.1") == "192.0.2.1"


def test_one_mailbox_whatever_its_case_or_plus_tag():
    assert mailbox(" Alice+1@Example.ORG ") == mailbox("alice+zz@example.org") == "alice@example.org"
    assert mailbox("not an address") is None


def test_addresses_are_read_from_the_known_members_of_a_json_body_only():
    body = b'{"email": "A@x.org", "legal_representative": {"email": "rep+t@x.org"}, "other": {"email": "o@x.org"}}'
    assert target_addresses(body) == ["a@x.org", "rep@x.org"]
    assert target_addresses(b"not json") == [] == target_addresses(b"[1]") == target_addresses(b"[" * 100_000)


def test_a_mail_call_counts_for_its_address_network_and_each_target_address_an_authenticated_one_for_its_user():
    mail = hits(LIMITS, RouteClass.MAIL, "192.0.2.1", None, ["a@x.org"])
    assert [h.key for h in mail] == ["ip:192.0.2.1", "mail-ip:192.0.2.1", "mail-address:a@x.org"]
    assert [h.key for h in hits(LIMITS, RouteClass.DEFAULT, "192.0.2.1", "u-1")] == ["ip:192.0.2.1", "user:u-1"]
    assert [h.key for h in hits(LIMITS, RouteClass.CERTIFICATE, "192.0.2.1")] == ["ip:192.0.2.1",
                                                                                     "certificate-ip:192.0.2.1"]


def count(limit: Limit, current: int, previous: int = 0, elapsed: float = 0.0) -> Count:
    return Count(Hit(limit, "s"), current, previous, elapsed)


def test_the_window_slides_the_previous_window_weighs_by_what_still_overlaps():
    limit = Limit("ip", 10, 60)
    assert not count(limit, 10).exceeded and count(limit, 11).exceeded
    assert count(limit, 1, previous=20, elapsed=15).exceeded  # 20 * 0.75 + 1 = 16
    assert not count(limit, 1, previous=20, elapsed=57).exceeded  # 20 * 0.05 + 1 = 2


def test_retry_after_is_when_one_more_call_would_pass():
    limit = Limit("ip", 10, 60)
    assert count(limit, 11, elapsed=20).retry_after() == 51  # 40 s, then 11 * (1 - 11/60) + 1 <= 10
    assert count(limit, 1, previous=20, elapsed=15).retry_after() == 21  # 20 * (1 - 36/60) + 2 = 10
    assert count(limit, 11, elapsed=59.5).retry_after() >= 1


class FakeCounters:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.values, self.added = fail, {}, []

    async def add(self, hits):
        if self.fail:
            raise CountersUnavailable("down")
        self.added.append([h.key for h in hits])
        out = []
        for h in hits:
            self.values[h.key] = self.values.get(h.key, 0) + 1
            out.append(Count(h, self.values[h.key], 0, 1.0))
        return out


async def body_of(content: bytes):
    async def read() -> bytes:
        return content
    return read


async def test_the_limit_holds_then_429_names_the_limit_and_when_to_come_back():
    limiter = RateLimiter(FakeCounters(), LIMITS)
    read = await body_of(b'{"email": "a@x.org"}')
    for _ in range(2):
        await limiter.admit_call("POST", "/api/accounts/public/subscriptions", "192.0.2.1", None, read)
    with pytest.raises(RateLimited) as refused:
        await limiter.admit_call("POST", "/api/accounts/public/account-requests", "192.0.2.9", None, read)
    assert refused.value.limit == "mail-address" and refused.value.retry_after > 3000
    assert "2 per 3600 s" in str(refused.value)


async def test_an_oversized_mail_body_is_refused_before_it_is_parsed():
    limiter = RateLimiter(FakeCounters(), LIMITS, mail_body_bytes=256)
    with pytest.raises(BodyTooLarge):
        await limiter.admit_call("POST", "/api/accounts/public/subscriptions", "192.0.2.1", None,
                                 await body_of(b" " * 257))


async def test_counters_away_let_ordinary_calls_through_and_refuse_mail_and_certificate_checks():
    failures = []
    limiter = RateLimiter(FakeCounters(fail=True), LIMITS, on_store_failure=failures.append)
    assert await limiter.admit_call("GET", "/stac/search", "192.0.2.1", "u", await body_of(b"")) == []
    for path in ("/api/accounts/public/subscriptions", "/api/accounts/public/certificates/verify"):
        with pytest.raises(LimitsUnavailable) as refused:
            await limiter.admit_call("POST", path, "192.0.2.1", None, await body_of(b'{"email": "a@x.org"}'))
        assert refused.value.retry_after >= 1
    assert failures == [False, True, True]
