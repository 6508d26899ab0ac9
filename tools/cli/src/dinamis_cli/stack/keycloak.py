"""Keycloak, the identity provider, as a local process of the stack; the ``dinamis`` realm applied
from ``deploy/keycloak/dinamis-realm.json`` (the same file production imports), the simulated
identity providers of development (``keycloak_sims``), and development users with real Keycloak
access tokens.

Everything here talks to Keycloak's admin REST API with the bootstrap administrator of the
profile (``keycloak_admin``), whose password is generated on first start and kept in the state
directory (0600), never in the repository.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from dinamis_cli.stack import process
from dinamis_cli.stack.keycloak_admin import (
    REALM,
    SVC_ACCOUNTS,
    Admin,
    _secret,
    admin_credentials,
    base_url,
    client_secret,
    fill,
)
from dinamis_cli.stack.keycloak_sims import apply_sims, ensure_sim_user, provider_values
from dinamis_cli.stack.profile import Profile, cache_dir

__all__ = ["REALM", "Admin", "_secret", "admin_credentials", "apply_realm", "base_url", "ensure_sim_user",
           "realm_document", "user_token"]

KEYCLOAK_VERSION = os.environ.get("KEYCLOAK_VERSION", "26.7.3")
API_AUDIENCE = "dinamis-api"
DEV_CLIENT = "dinamis-dev-cli"  # development only: never in the realm file, added by the stack


def home() -> Path:
    return cache_dir() / "keycloak" / KEYCLOAK_VERSION


def installed() -> bool:
    return (home() / ".complete").exists()


def issuer(profile: Profile) -> str:
    return profile.issuer


# --- the process ----------------------------------------------------------------------------

def ready(profile: Profile) -> bool:
    try:
        url = f"http://127.0.0.1:{profile.ports['keycloak_management']}/health/ready" \
            if not profile.external("keycloak") else f"{issuer(profile)}/.well-known/openid-configuration"
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(profile: Profile, jdbc_url: str, db_user: str) -> None:
    user, password = admin_credentials(profile)
    port, management = profile.ports["keycloak"], profile.ports["keycloak_management"]
    env = {"KC_BOOTSTRAP_ADMIN_USERNAME": user, "KC_BOOTSTRAP_ADMIN_PASSWORD": password,
           "KC_DB_URL": jdbc_url, "KC_DB_USERNAME": db_user, "KC_DB_PASSWORD": "",
           "JAVA_OPTS_KC_HEAP": "-Xms128m -Xmx768m"}
    pid = process.spawn(profile, "keycloak", [
        str(home() / "bin" / "kc.sh"), "start", "--optimized", "--http-enabled=true", "--http-host=127.0.0.1",
        f"--http-port={port}", f"--http-management-port={management}", f"--hostname=http://127.0.0.1:{port}",
        "--hostname-strict=false", "--log-level=WARN"], env=env)
    process.wait_until(lambda: ready(profile), 180, "Keycloak", pid, process.log_file(profile, "keycloak"))
    apply_realm(profile)


# --- the realm, as code -----------------------------------------------------------------------

def realm_file(profile: Profile) -> Path:
    return profile.root / "deploy" / "keycloak" / "dinamis-realm.json"


def realm_values(profile: Profile) -> dict[str, str]:
    """What fills the realm files' placeholders: the profile's portal, mail sink, generated client
    secrets and (dev/test) simulated providers; the environment overrides any of them."""
    smtp_host, smtp_port = profile.smtp_address
    return {"DINAMIS_PORTAL_URL": profile.service_url("gateway"), "DINAMIS_SMTP_HOST": smtp_host,
            "DINAMIS_SMTP_PORT": str(smtp_port), "DINAMIS_SVC_ACCOUNTS_SECRET": client_secret(profile, SVC_ACCOUNTS),
            **provider_values(profile), **os.environ}


def realm_document(profile: Profile) -> dict:
    """The realm file with its ``${DINAMIS_…:default}`` placeholders filled (Keycloak's
    ``--import-realm`` fills the same syntax from the environment in production)."""
    return fill(realm_file(profile), realm_values(profile))


DEV_CLIENT_DOCUMENT = {
    "clientId": DEV_CLIENT, "name": "Development tokens (dinamis token)", "publicClient": True,
    "standardFlowEnabled": False, "directAccessGrantsEnabled": True, "protocol": "openid-connect",
    "defaultClientScopes": [API_AUDIENCE, "basic", "profile", "email"], "attributes": {"access.token.lifespan": "3600"}}


REALM_KINDS = ("development", "production")


def realm_kind(profile: Profile) -> str:
    """Which kind of realm the stack administers: ``DINAMIS_KEYCLOAK_REALM_KIND`` (``development`` /
    ``production``), else ``development`` for the stack's own Keycloak (dev and test profiles) and
    ``production`` for an external one. Only a development realm has development-only clients."""
    kind = os.environ.get("DINAMIS_KEYCLOAK_REALM_KIND") or (
        "production" if profile.external("keycloak") else "development")
    if kind not in REALM_KINDS:
        raise ValueError(f"DINAMIS_KEYCLOAK_REALM_KIND={kind!r}: choose one of {', '.join(REALM_KINDS)}")
    return kind


def development_clients(admin: Admin, realm: str, development: bool) -> None:
    """The password-grant client exists in a development realm, and in no other (removed if found)."""
    present = admin.client(DEV_CLIENT, realm)
    if development and present is None:
        admin.call("POST", f"/{realm}/clients", json=DEV_CLIENT_DOCUMENT)
    elif not development and present is not None:
        admin.call("DELETE", f"/{realm}/clients/{present['id']}")


def apply_realm(profile: Profile) -> None:
    """Create the realm from the file, with the development client in a development realm only, and
    the simulated providers; when a file changed since, recreate its realm (development and test
    stacks only: their users are development users, made again on demand). An external Keycloak's
    realm is only created when missing, and it gets no simulated provider."""
    values = realm_values(profile)
    external = profile.external("keycloak") is not None
    development = realm_kind(profile) == "development"
    with Admin(profile) as admin:
        apply_sims(admin, profile, values)
        admin.put_realm(fill(realm_file(profile), values), profile.path("keycloak", "realm.sha256"),
                        replace=not external, extra=DEV_CLIENT_DOCUMENT if development else None)
        development_clients(admin, REALM, development)


# --- development users and their tokens -------------------------------------------------------

def ensure_user(admin: Admin, username: str, entity: str | None, category: str | None, roles: list[str],
                cells: list[str], password: str) -> str:
    """The development user exists with exactly these attributes and realm roles; returns its id."""
    attributes = {"entity_id": [entity] if entity else [], "entity_category": [category] if category else [],
                  "cells": list(cells)}
    found = admin.call("GET", f"/{REALM}/users", params={"username": username, "exact": "true"}).json()
    body = {"username": username, "enabled": True, "emailVerified": True, "email": f"{username}@dev.dinamis.invalid",
            "firstName": username, "lastName": "Development", "attributes": attributes, "requiredActions": []}
    if found:
        uid = found[0]["id"]
        admin.call("PUT", f"/{REALM}/users/{uid}", json=body)
    else:
        created = admin.call("POST", f"/{REALM}/users", json={
            **body, "credentials": [{"type": "password", "value": password, "temporary": False}]})
        uid = created.headers["location"].rsplit("/", 1)[1]
    current = {r["name"]: r for r in admin.call("GET", f"/{REALM}/users/{uid}/role-mappings/realm").json()}
    available = {r["name"]: r for r in admin.call("GET", f"/{REALM}/roles").json()}
    unknown = set(roles) - set(available)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}: choose among {', '.join(sorted(available))}")
    remove = [r for name, r in current.items() if name in available and name not in roles
              and not name.startswith("default-roles")]
    add = [available[name] for name in roles if name not in current]
    if remove:
        admin.call("DELETE", f"/{REALM}/users/{uid}/role-mappings/realm", json=remove)
    if add:
        admin.call("POST", f"/{REALM}/users/{uid}/role-mappings/realm", json=add)
    return uid


def user_token(profile: Profile, username: str, entity: str | None, roles: list[str],
               category: str | None = "institutional", cells: list[str] | tuple[str, ...] = ()) -> str:
    """A real Keycloak access token for a development user (created or updated first); a
    development realm only."""
    if realm_kind(profile) != "development":
        raise RuntimeError("development users and tokens exist only in a development realm "
                           "(DINAMIS_KEYCLOAK_REALM_KIND=development)")
    password = _secret(profile, "dev-user-password")
    with Admin(profile) as admin:
        ensure_user(admin, username, entity, category, roles, list(cells), password)
    for attempt in range(5):  # brute-force detection may briefly hold a user after a burst
        r = httpx.post(f"{issuer(profile)}/protocol/openid-connect/token", timeout=30,
                       data={"grant_type": "password", "client_id": DEV_CLIENT, "username": username,
                             "password": password, "scope": "openid"})
        if r.status_code == 200:
            return r.json()["access_token"]
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"Keycloak refused a token for {username}: {r.status_code} {r.text[:300]}")
