"""An organisation joins DINAMIS and its people sign in, every service a real process on the real
Kafka, FerretDB, PostgreSQL and Keycloak, e-mails read from the stack's SMTP sink:

subscribe → the legal representative accepts → review → certificate → the correspondent sets a
password and signs in (authorization code + PKCE) → a person asks for an account → the
correspondent activates it → that person signs in, their token carries the entity → the
requests service already knows the entity's category → they link their THEIA account.
Each step's event is on Kafka."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaConsumer
from dinamis_cli.stack.membership import Organisation, link_token, subscribe_and_approve
from dinamis_cli.stack.servers import kafka_auth
from dinamis_testkit.archive import archive_request, archive_scene
from dinamis_testkit.browser import form_action
from dinamis_testkit.portal import Portal, choose_password, link_theia

pytestmark = [pytest.mark.integration, pytest.mark.flow]

PASSWORD = "Une-phrase-de-passe-2026"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def signed_in(running_stack, address: str) -> dict:
    """The person follows Keycloak's set-your-password e-mail, then signs in to the portal."""
    keycloak_mail = await running_stack.mail(address, containing="/login-actions/action-token", timeout=60)
    async with Portal(running_stack.profile) as portal:
        done = await choose_password(portal, keycloak_mail, PASSWORD)
        assert done.status_code == 200, done.text[-300:]
    async with Portal(running_stack.profile) as portal:
        return await portal.login(address, PASSWORD)


async def events_about(kafka: str, keys: set[str], wanted: int, timeout: float = 30,
                       login: dict | None = None) -> list[str]:
    consumer = AIOKafkaConsumer("accounts.entity.events.v1", "accounts.user.events.v1", bootstrap_servers=kafka,
                                group_id=None, auto_offset_reset="earliest", **(login or {}))
    await consumer.start()
    found: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < wanted:
                record = await consumer.getone()
                if record.key and record.key.decode() in keys:
                    found.append(dict(record.headers)["ce_type"].decode().removeprefix("fr.dinamis.accounts."))
    finally:
        await consumer.stop()
    return found


async def test_an_organisation_joins_and_its_people_sign_in_order_and_link_theia(running_stack):
    stack, profile = running_stack.stack, running_stack.profile
    org = Organisation.sample("institutional")
    admin = running_stack.token("admin-journey", roles=("admin",))
    async with running_stack.client() as anonymous:
        entity_id = await subscribe_and_approve(anonymous, admin, running_stack.mail, org)

    # the correspondent: an account made on approval, a password chosen from Keycloak's e-mail
    correspondent = await signed_in(running_stack, org.correspondent)
    seen = claims(correspondent["access_token"])
    assert (seen["entity_id"], seen["entity_category"]) == (entity_id, "institutional")
    assert {"correspondent", "user"} <= set(seen["roles"])
    async with running_stack.client(correspondent["access_token"]) as corr, running_stack.client() as anonymous:
        certificate = await corr.get(f"/api/accounts/entities/{entity_id}/certificate")
        assert certificate.headers["content-type"] == "application/pdf"
        check = (await anonymous.post("/api/accounts/public/certificates/verify", content=certificate.content)).json()
        assert (check["valid"], check["registered"], check["entity_id"]) == (True, True, entity_id), check

        # a colleague asks for an account; the correspondent is told and activates it
        colleague = f"geomaticien.{uuid.uuid4().hex[:6]}@example.org"
        asked = await anonymous.post("/api/accounts/public/account-requests", json={
            "email": colleague, "first_name": "Bob", "last_name": "Géomaticien", "entity_id": entity_id})
        assert asked.status_code == 202, asked.text
        user_id = asked.json()["user_id"]
        verified = await anonymous.post(f"/api/accounts/public/account-requests/{user_id}/email-verification",
                                        json={"token": link_token(await running_stack.mail(colleague))})
        assert verified.json()["status"] == "requested"
        assert "asks for a DINAMIS account" in await running_stack.mail(org.correspondent, containing=colleague)
        waiting = {u["user_id"]: u["status"] for u in (await corr.get(f"/api/accounts/entities/{entity_id}/users"))
                   .json()}
        assert waiting[user_id] == "requested"
        activated = await corr.post(f"/api/accounts/users/{user_id}/activation")
        assert activated.status_code == 200 and activated.json()["status"] == "active", activated.text

    # the colleague signs in: the token carries the entity; the gateway and the services accept it
    tokens = await signed_in(running_stack, colleague)
    seen = claims(tokens["access_token"])
    dinamis_roles = set(seen["roles"]) & {"user", "correspondent", "arbiter", "operator", "admin"}
    assert (seen["entity_id"], seen["entity_category"], dinamis_roles) == (entity_id, "institutional", {"user"})
    async with running_stack.client(tokens["access_token"]) as api:
        assert (await api.get("/api/accounts/me/account")).json()["user_id"] == user_id
        created = await api.post("/api/requests", json=archive_request(archive_scene("spot-6-7"), title="Quartiers"))
        assert created.status_code == 201, created.text

        # THEIA, needed for SPOT 6/7 downloads: linked in Keycloak, then recorded by the accounts service
        theia = f"bob-theia-{uuid.uuid4().hex[:6]}"
        stack.ensure_sim_user(profile, "theia-sim", theia, PASSWORD, f"{theia}@theia.example.org", "Bob", "G")
        async with Portal(profile) as portal:
            await portal.login(colleague, PASSWORD)
            back = portal.returned(await link_theia(portal, theia, PASSWORD))
            assert back["kc_action_status"] == "success"
        linked = await api.post("/api/accounts/me/linked-identities/refresh")
        assert linked.json()["linked_identities"] == {"theia": theia}, linked.text

        async def routed():
            body = (await api.get(f"/api/requests/{created.json()['id']}")).json()
            return body if body["cell"] else None

        for _ in range(100):
            if request := await routed():
                break
            await asyncio.sleep(0.2)
        assert request["cell"] == "institutional"  # the requests service learnt the entity's category

    correspondent_id = next(u for u, s in waiting.items() if s == "active")
    steps = await events_about(profile.kafka_bootstrap, {entity_id, user_id, correspondent_id}, 7,
                                login=kafka_auth(profile).client_options())
    assert [s for s in steps if s.startswith("entity.")] == [
        "entity.subscribed.v1", "entity.licence-accepted.v1", "entity.approved.v1"]
    assert sorted(s for s in steps if not s.startswith("entity.")) == sorted([
        "user.activated.v1", "user.requested.v1", "user.activated.v1", "identity.linked.v1"])


async def test_a_deactivated_person_can_no_longer_sign_in(running_stack):
    entity_id = running_stack.entities["institutional"]
    admin = running_stack.token("admin-deact", roles=("admin",))
    person = f"partant.{uuid.uuid4().hex[:6]}@example.org"
    async with running_stack.client() as anonymous, running_stack.client(admin) as adm:
        user_id = (await anonymous.post("/api/accounts/public/account-requests", json={
            "email": person, "first_name": "Léa", "last_name": "Partante", "entity_id": entity_id})).json()["user_id"]
        await anonymous.post(f"/api/accounts/public/account-requests/{user_id}/email-verification",
                             json={"token": link_token(await running_stack.mail(person))})
        assert (await adm.post(f"/api/accounts/users/{user_id}/activation")).status_code == 200
        await signed_in(running_stack, person)
        gone = await adm.post(f"/api/accounts/users/{user_id}/deactivation", json={"reason": "left the service"})
        assert gone.json()["status"] == "inactive"

    async def refused() -> bool:
        async with Portal(running_stack.profile) as portal:
            page = await portal.authorize()
            answer = await portal.go(form_action(page.text), {"username": person, "password": PASSWORD})
            return answer.status_code == 200 and "disabled" in answer.text.lower()

    for _ in range(50):  # Keycloak is told through the accounts service's own events
        if await refused():
            break
        await asyncio.sleep(0.3)
    assert await refused()
    assert "deactivated" in await running_stack.mail(person, containing="left the service")


async def federation_login(profile, username: str) -> dict:
    async with Portal(profile) as portal:
        page = await portal.authorize(kc_idp_hint="federation")
        back = portal.returned(await portal.go(form_action(page.text), {"username": username, "password": PASSWORD}))
        return await portal.tokens(back["code"])


async def test_a_public_agent_signing_in_through_the_federation_joins_the_entity_of_their_siret_once_activated(
        running_stack):
    stack, profile = running_stack.stack, running_stack.profile
    entity_id = running_stack.entities["institutional"]
    async with running_stack.client(running_stack.token("admin-fed", roles=("admin",))) as admin:
        siret = (await admin.get(f"/api/accounts/entities/{entity_id}")).json()["identifier"].split(" ", 1)[1]
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    stack.ensure_sim_user(profile, "federation-sim", agent, PASSWORD, f"{agent}@mairie.example.org", "Agnès", "Agent",
                          {"siret": [siret.replace(" ", "")]})

    first = await federation_login(profile, agent)
    assert "entity_id" not in claims(first["access_token"])  # the federation vouched; DINAMIS has not mapped yet
    async with running_stack.client(first["access_token"]) as api:
        enrolled = await api.post("/api/accounts/me/enrolment")
        assert enrolled.status_code == 200, enrolled.text
        # matched on the exact SIRET, the person waits for the entity's correspondent (issue 11)
        assert (enrolled.json()["entity_id"], enrolled.json()["status"]) == (entity_id, "requested")
        assert enrolled.json()["linked_identities"] == {"federation": agent}
        again = await api.post("/api/accounts/me/enrolment")
        assert again.json()["user_id"] == enrolled.json()["user_id"]  # idempotent
    assert "entity_id" not in claims((await federation_login(profile, agent))["access_token"])  # not yet a member
    async with running_stack.client(running_stack.token("admin-fed", roles=("admin",))) as admin:
        activated = await admin.post(f"/api/accounts/users/{enrolled.json()['user_id']}/activation")
        assert (activated.status_code, activated.json()["status"], activated.json()["roles"]) == (
            200, "active", ["user"]), activated.text

    for _ in range(50):  # the accounts service pushes the membership into Keycloak from its own event
        seen = claims((await federation_login(profile, agent))["access_token"])
        if seen.get("entity_id"):
            break
        await asyncio.sleep(0.3)
    assert (seen["entity_id"], seen["entity_category"]) == (entity_id, "institutional")
    assert "user" in seen["roles"]


async def test_a_token_without_the_api_audience_or_of_a_person_without_a_federation_is_refused(running_stack):
    env = running_stack.profile.service_env("accounts")
    async with httpx.AsyncClient(timeout=30) as client:
        service_token = (await client.post(f"{running_stack.profile.issuer}/protocol/openid-connect/token", data={
            "grant_type": "client_credentials", "client_id": env["KEYCLOAK_CLIENT_ID"],
            "client_secret": env["KEYCLOAK_CLIENT_SECRET"]})).json()["access_token"]
    async with running_stack.client(service_token) as other_audience:
        refused = await other_audience.get("/api/accounts/me")
        assert refused.status_code == 401 and "another audience" in refused.json()["message"]
    async with running_stack.client(running_stack.token(f"local-{uuid.uuid4().hex[:6]}")) as local:
        r = await local.post("/api/accounts/me/enrolment")
        assert r.status_code == 403 and "federation" in r.json()["message"]
