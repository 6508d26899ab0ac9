"""No account enumeration: an account request answers the same way (status, body shape, time)
whether or not the address has an account, and only the address's mailbox learns which; an
account id proves nothing on the public validation endpoint. The accounts service on the real
Kafka and FerretDB, e-mail through a real SMTP sink."""

from __future__ import annotations

import statistics
import time

import pytest
from dinamis_cli.stack.membership import Organisation, link_token, subscribe_and_approve
from dinamis_testkit.devtokens import mint_token

pytestmark = pytest.mark.integration
BASE = "/api/accounts/public/account-requests"


class NoKeycloak:
    """The identity provider left out: these tests look at the public endpoints only."""

    async def push(self, user, entity_kind):
        return user.keycloak_id or f"kc-{user.id}", True

    async def lookup(self, keycloak_id):
        return None


def asked(email: str, entity_id: str) -> dict:
    return {"email": email, "first_name": "Eve", "last_name": "Probe", "entity_id": entity_id}


async def test_an_account_request_does_not_tell_whether_the_address_has_an_account(accounts_service, unique):
    async with accounts_service(identity=NoKeycloak()) as accounts, accounts.client() as anonymous:
        admin = mint_token(*accounts.served.keys, user="kc-admin", entity=None, roles=["admin"])
        entity_id = await subscribe_and_approve(anonymous, admin, accounts.mailbox,
                                                Organisation.sample("institutional", unique))
        known = f"known.{unique}@example.org"
        first = await anonymous.post(BASE, json=asked(known, entity_id))
        assert first.status_code == 202, first.text
        verified = await anonymous.post(f"{BASE}/{first.json()['user_id']}/email-verification",
                                        json={"token": await accounts.mailbox.link_token(known)})
        assert verified.status_code == 200, verified.text

        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        answers = {}
        for i in range(6):
            for kind, email in (("known", known), ("unknown", f"fresh{i}.{unique}@example.org")):
                started = time.perf_counter()
                answer = await anonymous.post(BASE, json=asked(email, entity_id))
                timings[kind].append(time.perf_counter() - started)
                answers[kind] = answer
                assert answer.status_code == 202, answer.text  # before: 409 "an account with the e-mail … exists"
        k, u = answers["known"].json(), answers["unknown"].json()
        assert set(k) == set(u) and k["status"] == u["status"] == "email-pending"
        assert known not in answers["known"].text.replace(f'"email":"{known}"', "")  # nothing but the echo
        slow, fast = sorted([statistics.median(timings["known"]), statistics.median(timings["unknown"])])
        assert slow - fast < 0.1, timings  # similar time: no timing oracle worth a request

        # the made-up id of the known address's answer and a real id with a wrong token: the same refusal
        probes = [await anonymous.post(f"{BASE}/{user_id}/email-verification", json={"token": "x" * 43})
                  for user_id in (k["user_id"], first.json()["user_id"])]
        assert [p.status_code for p in probes] == [410, 410]
        assert probes[0].json()["message"] == "this e-mail validation link is not valid"

        # the owner of the address is told what happened, without a link
        notice = await accounts.mailbox(known, count=2)
        assert "has an account already" in notice and "token=" not in notice
        assert link_token(await accounts.mailbox("fresh0." + known.split(".", 1)[1]))


async def test_a_subscription_answers_alike_for_a_correspondents_address(accounts_service, unique):
    async with accounts_service(identity=NoKeycloak()) as accounts, accounts.client() as anonymous:
        org = Organisation.sample("scientific", unique)
        admin = mint_token(*accounts.served.keys, user="kc-admin", entity=None, roles=["admin"])
        await subscribe_and_approve(anonymous, admin, accounts.mailbox, org)
        body = {"first_name": "Eve", "last_name": "Probe"}
        seen = await anonymous.post("/api/accounts/public/subscriptions", json={**body, "email": org.correspondent})
        new = await anonymous.post("/api/accounts/public/subscriptions",
                                   json={**body, "email": f"other.{unique}@example.org"})
        assert (seen.status_code, set(seen.json()), seen.json()["status"]) == (
            new.status_code, set(new.json()), new.json()["status"]) == (202, set(new.json()), "email-pending")
