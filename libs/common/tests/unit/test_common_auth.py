"""Access tokens: what the gateway and the services accept, and what they refuse."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from dinamis_common.auth import Unauthorized, bearer_token, principal_from_claims
from dinamis_testkit.devtokens import ensure_dev_keys, mint_token


async def test_a_valid_token_says_who_the_caller_is_and_keeps_its_claims_for_the_services(keys, verifier):
    token = mint_token(*keys, user="alice", entity="ent-1", roles=["user", "arbiter"], category="scientific",
                       cells=["pleiades-science"])
    who = await verifier.verify(token)
    assert (who.subject, who.roles) == ("alice", {"user", "arbiter"})
    assert (who.claims["entity_id"], who.claims["entity_category"], who.claims["cells"]) == (
        "ent-1", "scientific", ["pleiades-science"])  # what they mean is each service's business


def test_keycloak_realm_roles_are_roles_and_nothing_else_is_interpreted():
    who = principal_from_claims({"sub": "kc-1", "realm_access": {"roles": ["user", "operator"]},
                                 "entity_id": "ent-9", "preferred_username": "camille"})
    assert (who.subject, who.roles) == ("kc-1", {"user", "operator"})
    assert who.claims["entity_id"] == "ent-9"
    assert principal_from_claims({"sub": "x", "realm_access": None}).roles == frozenset()


@pytest.mark.parametrize(("change", "reason"), [
    ({"ttl": -60}, "expired"),
    ({"audience": "another-api"}, "another audience"),
    ({"issuer": "https://evil.example"}, "unknown issuer"),
])
async def test_expired_or_foreign_tokens_are_refused(keys, verifier, change, reason):
    with pytest.raises(Unauthorized, match=reason):
        await verifier.verify(mint_token(*keys, user="alice", entity=None, **change))


async def test_a_tampered_token_is_refused(keys, verifier):
    header, payload, signature = mint_token(*keys, user="alice", entity=None).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="invalid token"):
        await verifier.verify(f"{header}.{forged}.{signature}")


async def test_an_unsigned_alg_none_token_is_refused(verifier):
    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    now = int(time.time())
    token = f"{b64({'alg': 'none', 'kid': 'dinamis-dev-1'})}." \
            f"{b64({'sub': 'x', 'iss': 'dinamis-test-key', 'aud': 'dinamis-api', 'iat': now, 'exp': now + 60})}."
    with pytest.raises(Unauthorized, match="'none' is not accepted"):
        await verifier.verify(token)


async def test_a_token_signed_by_an_unknown_key_is_refused(tmp_path, verifier):
    other = ensure_dev_keys(tmp_path / "other", kid="attacker-key")
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(mint_token(*other, user="alice", entity=None))


async def test_a_symmetric_hs256_token_is_refused(verifier):
    token = jwt.encode({"sub": "x"}, "secret", algorithm="HS256", headers={"kid": "dinamis-dev-1"})
    with pytest.raises(Unauthorized, match="HS256"):
        await verifier.verify(token)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Token x"])
def test_an_authorization_header_must_be_a_bearer_token(header):
    with pytest.raises(Unauthorized):
        bearer_token(header)
