"""Identity beyond passwords, on the real Keycloak of the test stack: what the accounts service does
with its ``svc-accounts`` client (users, roles, attributes, the e-mail that lets a person choose a
password), the SMTP sink that e-mail lands in, linking a THEIA account, and logging in through the
organisation federation (simulated providers: deploy/keycloak/dev)."""

from __future__ import annotations

import html
import re
import smtplib
import uuid
from email.message import EmailMessage

import httpx
import jwt
import pytest
from dinamis_testkit.browser import form_action
from dinamis_testkit.portal import Portal, feedback, link_theia, text

pytestmark = [pytest.mark.integration, pytest.mark.flow]

PASSWORD = "Une-phrase-de-passe-2026"  # the realm's policy: 12 characters at least, not the username or e-mail


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
async def kc(running_stack):
    """Keycloak's admin REST API as the accounts service uses it: its own client, client credentials."""
    env = running_stack.profile.service_env("accounts")
    realm = f"{env['KEYCLOAK_URL']}/realms/{env['KEYCLOAK_REALM']}"
    async with httpx.AsyncClient(timeout=30) as anonymous:
        r = await anonymous.post(f"{realm}/protocol/openid-connect/token", data={
            "grant_type": "client_credentials", "client_id": env["KEYCLOAK_CLIENT_ID"],
            "client_secret": env["KEYCLOAK_CLIENT_SECRET"]})
    assert r.status_code == 200, r.text
    async with httpx.AsyncClient(base_url=f"{env['KEYCLOAK_URL']}/admin/realms/{env['KEYCLOAK_REALM']}", timeout=30,
                                 headers={"authorization": f"Bearer {r.json()['access_token']}"}) as client:
        yield client


async def create_user(kc: httpx.AsyncClient, username: str, roles: list[str], password: str | None = None,
                      **attributes: list[str]) -> str:
    r = await kc.post("/users", json={"username": username, "email": f"{username}@example.org", "enabled": True,
                                      "emailVerified": password is not None, "firstName": "Camille",
                                      "lastName": "Martin", "attributes": attributes})
    assert r.status_code == 201, r.text
    uid = r.headers["location"].rsplit("/", 1)[1]
    available = {role["name"]: role for role in (await kc.get(f"/users/{uid}/role-mappings/realm/available")).json()}
    r = await kc.post(f"/users/{uid}/role-mappings/realm", json=[available[name] for name in roles])
    assert r.status_code == 204, r.text
    if password:
        r = await kc.put(f"/users/{uid}/reset-password", json={"type": "password", "value": password,
                                                               "temporary": False})
        assert r.status_code == 204, r.text
    return uid


def test_the_mail_sink_keeps_each_message_for_its_recipients(running_stack):
    profile, stack = running_stack.profile, running_stack.stack
    to, hidden = f"{unique('to')}@example.org", f"{unique('bcc')}@example.org"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "no-reply@dinamis.invalid", to, "Demande DN-42 acceptée"
    message.set_content("Suivez votre demande : https://dinamis.invalid/requests/DN-42")
    with smtplib.SMTP(*profile.smtp_address, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=[to, hidden])

    kept = stack.messages(profile, to=to.upper())
    assert [m["subject"] for m in kept] == ["Demande DN-42 acceptée"]
    assert "https://dinamis.invalid/requests/DN-42" in kept[0].get_content()
    assert [m["subject"] for m in stack.messages(profile, to=hidden)] == ["Demande DN-42 acceptée"]  # a Bcc too
    assert stack.messages(profile, to=f"{unique('nobody')}@example.org") == []


async def test_svc_accounts_administers_users_and_nothing_else(running_stack, kc):
    uid = await create_user(kc, unique("acc"), ["user", "correspondent"], entity_id=["ent-1"],
                            entity_category=["scientific"], cells=["pleiades-science"])
    mapped = {role["name"]: role for role in (await kc.get(f"/users/{uid}/role-mappings/realm")).json()}
    assert {"user", "correspondent"} <= set(mapped) and "admin" not in mapped
    r = await kc.request("DELETE", f"/users/{uid}/role-mappings/realm", json=[mapped["correspondent"]])
    assert r.status_code == 204, r.text
    assert "correspondent" not in {role["name"] for role in (await kc.get(f"/users/{uid}/role-mappings/realm")).json()}

    user = (await kc.get(f"/users/{uid}")).json()
    r = await kc.put(f"/users/{uid}", json={**user, "attributes": {"entity_id": ["ent-2"],
                                                                   "entity_category": ["institutional"]}})
    assert r.status_code == 204, r.text
    assert (await kc.get(f"/users/{uid}")).json()["attributes"] == {"entity_id": ["ent-2"],
                                                                    "entity_category": ["institutional"]}
    found = (await kc.get("/users", params={"email": user["email"], "exact": "true"})).json()
    assert [u["id"] for u in found] == [uid]
    assert (await kc.get(f"/users/{uid}/federated-identity")).json() == []

    # not the realm, not its clients, and no administrator role for anyone (itself included)
    from dinamis_cli.stack.keycloak import Admin

    with Admin(running_stack.profile) as admin:
        management = admin.client("realm-management")
        manage_realm = admin.call("GET", f"/dinamis/clients/{management['id']}/roles/manage-realm").json()
        me = admin.call("GET", "/dinamis/users", params={"username": "service-account-svc-accounts",
                                                           "exact": "true"}).json()[0]
    assert (await kc.put("", json={"registrationAllowed": True})).status_code == 403
    assert (await kc.post("/clients", json={"clientId": unique("rogue")})).status_code == 403
    assert (await kc.get("/identity-provider/instances")).status_code == 403
    for target in (uid, me["id"]):
        r = await kc.post(f"/users/{target}/role-mappings/clients/{management['id']}", json=[manage_realm])
        assert r.status_code == 403, target


async def test_an_onboarded_person_chooses_a_password_from_the_email_then_logs_in_to_the_portal(running_stack, kc):
    profile = running_stack.profile
    name = unique("onb")
    uid = await create_user(kc, name, ["user", "correspondent"], entity_id=["ent-onb"],
                            entity_category=["institutional"], cells=["pleiades-institutional"])
    portal_home = f"{profile.service_url('gateway')}/"
    r = await kc.put(f"/users/{uid}/execute-actions-email", json=["VERIFY_EMAIL", "UPDATE_PASSWORD"],
                     params={"client_id": "dinamis-portal", "redirect_uri": portal_home, "lifespan": 86400})
    assert r.status_code == 204, r.text

    [mail] = running_stack.stack.messages(profile, to=f"{name}@example.org")
    link = re.search(r"https?://\S+/login-actions/action-token\S+", mail.get_body(("plain",)).get_content())[0]
    async with Portal(profile) as person:
        confirm = await person.go(link)  # a page first: merely opening the link (a mail scanner does) does nothing
        proceed = html.unescape(re.search(r'href="([^"]*action-token[^"]*)"', confirm.text)[1])
        form = await person.go(proceed)
        assert 'id="kc-passwd-update-form"' in form.text, text(form)
        weak = await person.go(form_action(form.text), {"password-new": "short", "password-confirm": "short"})
        # the realm's password policy (12 characters at least) refuses it: the same form, with the reason
        assert 'id="kc-passwd-update-form"' in weak.text and "12." in feedback(weak), text(weak)
        done = await person.go(form_action(weak.text), {"password-new": PASSWORD, "password-confirm": PASSWORD})
        assert done.status_code == 200 and f'href="{portal_home}"' in done.text, text(done)  # back to the portal
    user = (await kc.get(f"/users/{uid}")).json()
    assert user["emailVerified"] and user["requiredActions"] == []  # the link proved the address

    async with Portal(profile) as portal:
        seen = claims((await portal.login(name, PASSWORD))["access_token"])
    assert (seen["entity_id"], seen["entity_category"], seen["cells"]) == ("ent-onb", "institutional",
                                                                           ["pleiades-institutional"])
    assert {"user", "correspondent"} <= set(seen["roles"]) and seen["preferred_username"] == name


async def test_a_user_links_their_theia_account_which_then_links_to_nobody_else(running_stack, kc):
    profile, stack = running_stack.profile, running_stack.stack
    theia = unique("theia")
    stack.ensure_sim_user(profile, "theia-sim", theia, PASSWORD, f"{theia}@theia.invalid", "Théa", "Land")
    first, second = unique("lnk"), unique("lnk")
    first_id = await create_user(kc, first, ["user"], password=PASSWORD, entity_id=["ent-lnk"])
    second_id = await create_user(kc, second, ["user"], password=PASSWORD, entity_id=["ent-lnk"])

    async with Portal(profile) as portal:
        await portal.login(first, PASSWORD)  # the session the portal has for its user
        back = portal.returned(await link_theia(portal, theia, PASSWORD))
        assert (back["kc_action"], back["kc_action_status"]) == ("idp_link", "success")
        await portal.tokens(back["code"])  # and the portal's session goes on
    links = (await kc.get(f"/users/{first_id}/federated-identity")).json()
    assert [(link["identityProvider"], link["userName"]) for link in links] == [("theia", theia)]

    async with Portal(profile) as portal:
        await portal.login(second, PASSWORD)
        refused = await link_theia(portal, theia, PASSWORD)
        assert refused.status_code == 400 and "is already linked to another user" in refused.text, text(refused)
    assert (await kc.get(f"/users/{second_id}/federated-identity")).json() == []

    async with Portal(profile) as stranger:  # THEIA links accounts; nobody logs in to DINAMIS with it
        attempt = await stranger.authorize(kc_idp_hint="theia")
        assert attempt.status_code >= 400 and "/realms/theia-sim/" not in attempt.text, text(attempt)


async def test_a_public_agent_logs_in_through_the_federation_and_keycloak_keeps_their_siret(running_stack, kc):
    profile, stack = running_stack.profile, running_stack.stack
    agent = unique("agent")
    email = f"{agent}@interieur.gouv.invalid"
    stack.ensure_sim_user(profile, "federation-sim", agent, PASSWORD, email, "Marie", "Curie",
                          {"siret": ["13002526500013"]})

    async with Portal(profile) as portal:
        federation_login = await portal.authorize(kc_idp_hint="federation")
        assert "/realms/federation-sim/" in form_action(federation_login.text), text(federation_login)
        back = portal.returned(await portal.go(form_action(federation_login.text),
                                               {"username": agent, "password": PASSWORD}))  # no page in between
        seen = claims((await portal.tokens(back["code"]))["access_token"])
    assert (seen["iss"], seen["email"], seen["given_name"], seen["family_name"]) == (
        profile.issuer, email, "Marie", "Curie")

    [user] = (await kc.get("/users", params={"email": email, "exact": "true"})).json()
    assert user["emailVerified"] and user["attributes"]["siret"] == ["13002526500013"]
    links = (await kc.get(f"/users/{user['id']}/federated-identity")).json()
    assert [(link["identityProvider"], link["userName"]) for link in links] == [("federation", agent)]

    # the agent moves to another organisation: the next login brings the new SIRET
    stack.ensure_sim_user(profile, "federation-sim", agent, PASSWORD, email, "Marie", "Curie",
                          {"siret": ["11000201100044"]})
    async with Portal(profile) as portal:
        page = await portal.authorize(kc_idp_hint="federation")
        portal.returned(await portal.go(form_action(page.text), {"username": agent, "password": PASSWORD}))
    assert (await kc.get(f"/users/{user['id']}")).json()["attributes"]["siret"] == ["11000201100044"]
