"""Identity by subject: the token's ``email`` claim, which a person may edit in their Keycloak
profile, makes nobody the owner of an account; the ``sub`` does. The accounts service on the real
Kafka and FerretDB, e-mail through a real SMTP sink."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from dinamis_cli.stack.membership import Organisation, subscribe_and_approve
from dinamis_testkit.devtokens import DEV_AUDIENCE, DEV_ISSUER, mint_token

from .test_enumeration import NoKeycloak, asked

pytestmark = pytest.mark.integration
BASE = "/api/accounts/public/account-requests"


def token_with_email(keys, subject: str, email: str) -> str:
    private, jwks = keys
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": subject, "iat": now, "exp": now + 600,
              "email": email, "email_verified": True, "preferred_username": email, "roles": ["user"]}
    kid = json.loads(jwks.read_text())["keys"][0]["kid"]
    return jwt.encode(claims, private.read_bytes(), algorithm="RS256", headers={"kid": kid})


async def test_an_edited_email_claim_does_not_open_someone_elses_account(accounts_service, unique):
    async with accounts_service(identity=NoKeycloak()) as accounts, accounts.client() as anonymous:
        admin = mint_token(*accounts.served.keys, user="kc-admin", entity=None, roles=["admin"])
        entity_id = await subscribe_and_approve(anonymous, admin, accounts.mailbox,
                                                Organisation.sample("institutional", unique))
        victim = f"victim.{unique}@example.org"
        user_id = (await anonymous.post(BASE, json=asked(victim, entity_id))).json()["user_id"]
        await anonymous.post(f"{BASE}/{user_id}/email-verification",
                             json={"token": await accounts.mailbox.link_token(victim)})
        forged = token_with_email(accounts.served.keys, f"kc-intruder-{unique}", victim)
        seen = await anonymous.get(f"/api/accounts/users/{user_id}", headers={"authorization": f"Bearer {forged}"})
        assert seen.status_code == 403, seen.text  # before: 200, the account shown to whoever typed its address
        assert victim not in seen.text
