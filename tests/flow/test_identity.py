"""Identity on the real Keycloak: the ``dinamis`` realm applied from deploy/keycloak, its tokens
verified by the gateway and the services through Keycloak's JWKS (issuer and audience checked),
the portal's authorization code + PKCE login driven like a browser, brute-force protection."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pytest
from dinamis_testkit.browser import browser, form_action

pytestmark = [pytest.mark.integration, pytest.mark.flow]


def user() -> str:
    return f"kc-{uuid.uuid4().hex[:8]}"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def test_a_keycloak_token_carries_the_entity_roles_and_cells_and_the_gateway_accepts_it(running_stack):
    profile = running_stack.profile
    token = running_stack.stack.mint_token(profile, name := user(), "ent-kc", ["user", "arbiter"],
                                           category="scientific", cells=["pleiades-science"])
    seen = claims(token)
    assert seen["iss"] == profile.issuer and "dinamis-api" in (seen["aud"] if isinstance(seen["aud"], list)
                                                                 else [seen["aud"]])
    assert (seen["entity_id"], seen["entity_category"], seen["cells"]) == ("ent-kc", "scientific",
                                                                           ["pleiades-science"])
    assert {"user", "arbiter"} <= set(seen["roles"]) and "operator" not in seen["roles"]
    assert seen["preferred_username"] == name
    async with running_stack.client(token) as api:
        assert (await api.get("/api/requests")).status_code == 200
        # the operator role was not given: its endpoint refuses this caller
        assert (await api.get("/api/provisioning/orders")).status_code == 403

    # roles change in Keycloak; the next token says so
    again = claims(running_stack.stack.mint_token(profile, name, "ent-kc", ["operator"], category="scientific"))
    assert "operator" in again["roles"] and "arbiter" not in again["roles"]


async def test_tokens_from_another_audience_issuer_or_tampered_or_unsigned_are_refused(running_stack):
    profile = running_stack.profile
    good = running_stack.stack.mint_token(profile, user(), "ent-kc", ["user"])
    header, _payload, signature = good.split(".")

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    forged_claims = {**claims(good), "roles": ["admin", "operator"]}
    tampered = f"{header}.{b64(forged_claims)}.{signature}"
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(forged_claims)}."
    from dinamis_cli.stack.keycloak import admin_credentials

    admin_user, admin_password = admin_credentials(profile)
    async with httpx.AsyncClient(timeout=30) as client:
        master = (await client.post(f"{profile.keycloak_url}/realms/master/protocol/openid-connect/token",
                                    data={"grant_type": "password", "client_id": "admin-cli", "username": admin_user,
                                          "password": admin_password})).json()["access_token"]
    cases = {"tampered": (tampered, "invalid token"), "alg none": (unsigned, "algorithm"),
             "another realm": (master, "")}
    async with running_stack.client() as anonymous:
        for name, (token, message) in cases.items():
            r = await anonymous.get("/api/requests", headers={"authorization": f"Bearer {token}"})
            assert r.status_code == 401, name
            assert message in r.json()["message"].lower(), (name, r.json())


async def test_the_portal_logs_in_with_authorization_code_and_pkce(running_stack):
    """What the web portal does, step by step, with the user's password typed in Keycloak's form."""
    from dinamis_cli.stack.keycloak import _secret

    profile = running_stack.profile
    name = user()
    running_stack.stack.mint_token(profile, name, "ent-pkce", ["user"], category="institutional")
    password = _secret(profile, "dev-user-password")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = f"{profile.service_url('gateway')}/callback"
    state = secrets.token_urlsafe(12)
    endpoint = f"{profile.issuer}/protocol/openid-connect"
    async with browser() as b:
        page = await b.get(f"{endpoint}/auth?" + urlencode({
            "client_id": "dinamis-portal", "redirect_uri": redirect, "response_type": "code", "scope": "openid",
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}))
        assert page.status_code == 200, page.text[:300]
        back = await b.post(form_action(page.text), data={"username": name, "password": password})
        assert back.status_code == 302, back.text[:300]
        location = urlparse(back.headers["location"])
        query = parse_qs(location.query)
        assert f"{location.scheme}://{location.netloc}{location.path}" == redirect and query["state"] == [state]
        code = query["code"][0]

        token_request = {"grant_type": "authorization_code", "client_id": "dinamis-portal", "code": code,
                         "redirect_uri": redirect}
        wrong = await b.post(f"{endpoint}/token", data={**token_request, "code_verifier": "x" * 50})
        assert wrong.status_code == 400  # PKCE: a stolen code is useless without the verifier
        page = await b.get(f"{endpoint}/auth?" + urlencode({
            "client_id": "dinamis-portal", "redirect_uri": redirect, "response_type": "code", "scope": "openid",
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}))
        assert page.status_code == 302  # the session is there: no second password
        code = parse_qs(urlparse(page.headers["location"]).query)["code"][0]
        tokens = (await b.post(f"{endpoint}/token", data={**token_request, "code": code,
                                                                 "code_verifier": verifier})).json()
        assert claims(tokens["access_token"])["entity_id"] == "ent-pkce"

        refreshed = (await b.post(f"{endpoint}/token", data={
            "grant_type": "refresh_token", "client_id": "dinamis-portal", "refresh_token": tokens["refresh_token"]}))
        assert refreshed.status_code == 200
        replayed = await b.post(f"{endpoint}/token", data={
            "grant_type": "refresh_token", "client_id": "dinamis-portal", "refresh_token": tokens["refresh_token"]})
        assert replayed.status_code == 400  # refresh tokens rotate: an old one is refused

        without_pkce = await b.get(f"{endpoint}/auth?" + urlencode({
            "client_id": "dinamis-portal", "redirect_uri": redirect, "response_type": "code", "scope": "openid"}))
        assert "code_challenge" in without_pkce.headers.get("location", "") + without_pkce.text

    async with running_stack.client(refreshed.json()["access_token"]) as api:
        assert (await api.get("/api/requests")).status_code == 200


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(running_stack):
    from dinamis_cli.stack.keycloak import DEV_CLIENT, _secret

    profile = running_stack.profile
    name = user()
    running_stack.stack.mint_token(profile, name, "ent-bf", ["user"])
    endpoint = f"{profile.issuer}/protocol/openid-connect/token"
    form = {"grant_type": "password", "client_id": DEV_CLIENT, "username": name}
    async with httpx.AsyncClient(timeout=30) as client:
        right = {**form, "password": _secret(profile, "dev-user-password")}
        assert (await client.post(endpoint, data=right)).status_code == 200
        for _ in range(5):
            wrong = await client.post(endpoint, data={**form, "password": "not-the-password"})
            assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
        locked = await client.post(endpoint, data=right)
        # locked although the password is right (Keycloak does not say why, to tell an attacker nothing)
        assert (locked.status_code, locked.json()["error"]) == (400, "invalid_grant"), locked.text
