"""Identity by subject, on the test profile's real Keycloak: the accounts service's Keycloak adapter
never adopts a Keycloak user it did not create, and development-only clients exist only in a
development realm."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from accounts_service.adapters.keycloak import KeycloakIdentityProvider
from accounts_service.domain.user import ACTIVE, User
from accounts_service.service_layer.ports import IdentityRefused
from dinamis_cli.stack import load_profile
from dinamis_cli.stack.keycloak import DEV_CLIENT, development_clients, realm_document
from dinamis_cli.stack.keycloak_admin import REALM, SVC_ACCOUNTS, Admin, client_secret

pytestmark = pytest.mark.integration


@pytest.fixture
def profile(servers):
    return load_profile("test")


def adapter(profile) -> KeycloakIdentityProvider:
    return KeycloakIdentityProvider(profile.keycloak_url, REALM, SVC_ACCOUNTS, client_secret(profile, SVC_ACCOUNTS),
                                    "dinamis-portal", profile.service_url("gateway"))


def active_account(email: str, roles: list[str]) -> User:
    user = User(str(uuid.uuid4()), email, "Mallory", "Squat", str(uuid.uuid4()), datetime.now(UTC), status=ACTIVE,
                roles=roles, invited=True)
    return user


async def test_an_account_whose_e_mail_a_foreign_keycloak_user_holds_is_refused_not_merged(profile, unique):
    email = f"squatter.{unique}@example.org"
    with Admin(profile) as admin:  # someone else's Keycloak user (a broker's first login, an administrator's)
        created = admin.call("POST", f"/{REALM}/users", json={"username": email, "email": email, "enabled": True})
        squatter = created.headers["location"].rsplit("/", 1)[1]
    kc = adapter(profile)
    try:
        with pytest.raises(IdentityRefused, match="already belongs to another Keycloak user"):
            await kc.push(active_account(email, ["correspondent", "user"]), "institutional")
        with Admin(profile) as admin:
            roles = {r["name"] for r in admin.call("GET", f"/{REALM}/users/{squatter}/role-mappings/realm").json()}
            attributes = admin.call("GET", f"/{REALM}/users/{squatter}").json().get("attributes") or {}
        assert not {"correspondent", "user"} & roles  # the foreign user got nothing
        assert not attributes.get("entity_id")
    finally:
        await kc.close()
        with Admin(profile) as admin:
            admin.call("DELETE", f"/{REALM}/users/{squatter}")


async def test_the_adapter_finds_again_only_what_it_created(profile, unique):
    account = active_account(f"new.{unique}@example.org", ["user"])
    kc = adapter(profile)
    try:
        first, _ = await kc.push(account, "scientific")
        again, _ = await kc.push(account, "scientific")  # a crash before recording the id: found by its reserved name
        assert first == again
        with Admin(profile) as admin:
            made = admin.call("GET", f"/{REALM}/users/{first}").json()
        assert (made["username"], made["email"]) == (f"dinamis-{account.id}", account.email)
    finally:
        await kc.close()
        with Admin(profile) as admin:
            admin.call("DELETE", f"/{REALM}/users/{first}")


def test_a_non_development_realm_has_no_password_grant_client(profile, unique):
    name = f"sec-{unique}"
    document = {**realm_document(profile), "realm": name}
    document.pop("identityProviders", None)
    document.pop("identityProviderMappers", None)
    with Admin(profile) as admin:
        admin.call("POST", "", json=document)
        try:
            development_clients(admin, name, development=True)  # say a development realm was made production
            assert admin.client(DEV_CLIENT, name) is not None
            development_clients(admin, name, development=False)
            assert admin.client(DEV_CLIENT, name) is None
            refused = httpx.post(f"{profile.keycloak_url}/realms/{name}/protocol/openid-connect/token", timeout=30,
                                 data={"grant_type": "password", "client_id": DEV_CLIENT, "username": "x",
                                       "password": "y"})
            assert refused.status_code in (400, 401) and refused.json()["error"] in (
                "invalid_client", "unauthorized_client"), refused.text
            password_grant = {c["clientId"] for c in admin.call("GET", f"/{name}/clients").json()
                              if c.get("directAccessGrantsEnabled")}
            assert password_grant <= {"admin-cli"}, password_grant  # Keycloak's own administration client only
        finally:
            admin.call("DELETE", f"/{name}")
