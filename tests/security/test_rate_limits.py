"""Class "nothing is rate-limited" (issue 11): the gateway's limits hold across replicas because they
count in the real PostgreSQL, shared; over a limit the caller gets 429 with Retry-After and the
service never sees the call. Per client address, per user, and tighter on what sends e-mail (per
address and per target e-mail address) and on certificate checks. Before this change every call
below reached the service (nothing counted)."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration

SUBSCRIBE = "/api/accounts/public/subscriptions"
ASK = "/api/accounts/public/account-requests"
LOOSE = {"rate_limit_ip": 1000, "rate_limit_user": 1000, "rate_limit_mail_ip": 1000, "rate_limit_mail_address": 1000,
         "rate_limit_certificate_ip": 1000}
BEHIND_A_PROXY = {"forwarded_allow_ips": "127.0.0.1"}  # the test plays the proxy that names each client


def assert_refused(response, limit: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["limit"] == limit and "try again in" in body["detail"]


async def test_the_limit_per_address_holds_across_two_gateway_replicas(gateways):
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_ip": 6}) as gw:
        a, b = gw.client(0), gw.client(1)
        async with a, b:
            answers = [await (a if i % 2 else b).get("/stac/collections") for i in range(6)]
            assert [r.status_code for r in answers] == [200] * 6
            refused = [await a.get("/stac/collections"), await b.get("/stac/collections")]
        for response in refused:  # STAC endpoints keep the STAC error shape
            assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
            assert response.json()["code"] == "TooManyRequests"
        assert len(gw.upstream.seen) == 6


async def test_concurrent_calls_on_both_replicas_are_all_counted(gateways):
    # the counters may take their time here (30 calls at once on a loaded machine): this test is about
    # counting; a store that does not answer in time lets calls through by design (tested elsewhere)
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_ip": 10}, rate_limit_store_timeout_seconds=10.0) as gw:
        a, b = gw.client(0), gw.client(1)
        async with a, b:
            answers = await asyncio.gather(*((a if i % 2 else b).get("/api/catalogue/public/x") for i in range(30)))
        assert sorted(r.status_code for r in answers) == [200] * 10 + [429] * 20
        assert len(gw.upstream.seen) == 10


async def test_one_user_is_limited_whichever_address_and_replica_they_call_from(gateways):
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_user": 4}, **BEHIND_A_PROXY) as gw:
        for i in range(4):
            async with gw.client(i % 2, user="alice", client_ip=f"198.51.100.{i}") as api:
                assert (await api.get("/api/requests")).status_code == 200
        async with gw.client(0, user="alice", client_ip="198.51.100.99") as api:
            assert_refused(await api.get("/api/requests"), "user")
        async with gw.client(1, user="bob", client_ip="198.51.100.99") as api:
            assert (await api.get("/api/requests")).status_code == 200  # another user is not held back


async def test_mail_to_one_address_is_limited_whoever_asks_and_however_it_is_spelt(gateways):
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_mail_address": 2}, **BEHIND_A_PROXY) as gw:
        spellings = ["victim@example.org", "Victim+1@EXAMPLE.org", "victim+zz@example.org"]
        answers = []
        for i, email in enumerate(spellings):
            async with gw.client(i % 2, client_ip=f"203.0.113.{i}") as api:
                path = SUBSCRIBE if i % 2 else ASK
                answers.append(await api.post(path, json={"email": email, "first_name": "A", "last_name": "B"}))
        assert [r.status_code for r in answers[:2]] == [200, 200]
        assert_refused(answers[2], "mail-address")
        async with gw.client(0, client_ip="203.0.113.50") as api:  # the legal representative's address too
            response = await api.put(f"{SUBSCRIBE}/s1", json={"legal_representative": {"email": "VICTIM@example.org"}})
            assert_refused(response, "mail-address")
            other = await api.post(SUBSCRIBE, json={"email": "someone.else@example.org"})
            assert other.status_code == 200
        assert len(gw.upstream.seen) == 3


async def test_mail_from_one_address_is_limited_whatever_the_target(gateways):
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_mail_ip": 3}, **BEHIND_A_PROXY) as gw:
        statuses = []
        for i in range(4):
            async with gw.client(i % 2, client_ip="203.0.113.7") as api:
                statuses.append(await api.post(SUBSCRIBE, json={"email": f"p{i}@example.org"}))
        assert [r.status_code for r in statuses[:3]] == [200] * 3
        assert_refused(statuses[3], "mail-ip")
        async with gw.client(0, client_ip="203.0.113.7") as api:  # ordinary calls of that address still pass
            assert (await api.get("/stac")).status_code == 200


async def test_certificate_checks_are_limited_per_address(gateways):
    async with gateways(replicas=2, **{**LOOSE, "rate_limit_certificate_ip": 2}, **BEHIND_A_PROXY) as gw:
        statuses = []
        for i in range(3):
            async with gw.client(i % 2, client_ip="192.0.2.44") as api:
                statuses.append(await api.post("/api/accounts/public/certificates/verify", json={"pem": "x"}))
        assert [r.status_code for r in statuses[:2]] == [200, 200]
        assert_refused(statuses[2], "certificate-ip")


async def test_a_mail_body_too_large_to_read_is_refused_before_the_service(gateways):
    async with gateways(replicas=1, **LOOSE, rate_limit_mail_body_bytes=1024) as gw, gw.client() as api:
        response = await api.post(SUBSCRIBE, json={"email": "a@example.org", "padding": "x" * 2000})
        assert response.status_code == 413
        assert gw.upstream.seen == []


async def test_counters_away_let_ordinary_calls_through_and_refuse_mail_with_503(gateways, servers):
    from dinamis_testkit.inprocess import free_port

    nowhere = f"postgresql://dinamis@127.0.0.1:{free_port()}/dinamis"  # nothing listens there
    async with gateways(replicas=1, postgres_dsn=nowhere) as gw, gw.client() as api:
        assert (await api.get("/stac/collections")).status_code == 200
        response = await api.post(SUBSCRIBE, json={"email": "a@example.org"})
        assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1
        assert "psycopg" not in response.text.lower() and "connection" not in response.text.lower()
        assert [c["path"] for c in gw.upstream.seen] == ["/stac/collections"]
