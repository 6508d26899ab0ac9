"""Keycloak, the identity provider, as a local process of the stack; the ``dinamis`` realm applied
from ``deploy/keycloak/dinamis-realm.json`` (the same file production imports), and development
users with real Keycloak access tokens.

Everything here talks to Keycloak's admin REST API with the bootstrap administrator of the
profile, whose password is generated on first start and kept in the state directory (0600),
never in the repository. An external Keycloak (``KEYCLOAK_URL``) is administered with
``KEYCLOAK_ADMIN`` / ``KEYCLOAK_ADMIN_PASSWORD``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from dinamis_cli.stack import process
from dinamis_cli.stack.profile import Profile, cache_dir

KEYCLOAK_VERSION = os.environ.get("KEYCLOAK_VERSION", "26.7.3")
REALM = "dinamis"
API_AUDIENCE = "dinamis-api"
DEV_CLIENT = "dinamis-dev-cli"  # development only: never in the realm file, added by the stack
PLACEHOLDER = re.compile(r"\$\{(DINAMIS_[A-Z0-9_]+)(?::([^}]*))?\}")


def home() -> Path:
    return cache_dir() / "keycloak" / KEYCLOAK_VERSION


def installed() -> bool:
    return (home() / ".complete").exists()


def base_url(profile: Profile) -> str:
    return profile.keycloak_url


def issuer(profile: Profile) -> str:
    return profile.issuer


def _secret(profile: Profile, name: str) -> str:
    path = profile.path("keycloak", name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def admin_credentials(profile: Profile) -> tuple[str, str]:
    if profile.external("keycloak"):
        return os.environ.get("KEYCLOAK_ADMIN", "admin"), os.environ["KEYCLOAK_ADMIN_PASSWORD"]
    return "admin", _secret(profile, "admin-password")


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


def realm_document(profile: Profile) -> dict[str, Any]:
    """The realm file with its ``${DINAMIS_…:default}`` placeholders filled from the environment
    (Keycloak's ``--import-realm`` fills the same syntax in production)."""
    values = {"DINAMIS_PORTAL_URL": profile.service_url("gateway"), **os.environ}
    text = PLACEHOLDER.sub(lambda m: values.get(m[1], m[2] or ""), realm_file(profile).read_text())
    return json.loads(text)


class Admin:
    """Keycloak's admin REST API as the profile's administrator."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.http = httpx.Client(base_url=base_url(profile), timeout=30)
        user, password = admin_credentials(profile)
        r = self.http.post("/realms/master/protocol/openid-connect/token",
                           data={"grant_type": "password", "client_id": "admin-cli", "username": user,
                                 "password": password})
        r.raise_for_status()
        self.http.headers["authorization"] = f"Bearer {r.json()['access_token']}"

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        r = self.http.request(method, f"/admin/realms{path}", **kwargs)
        if r.status_code >= 400 and not (method == "GET" and r.status_code == 404):
            raise RuntimeError(f"Keycloak {method} {path}: {r.status_code} {r.text[:300]}")
        return r

    def client(self, client_id: str) -> dict[str, Any] | None:
        found = self.call("GET", f"/{REALM}/clients", params={"clientId": client_id}).json()
        return found[0] if found else None


DEV_CLIENT_DOCUMENT = {
    "clientId": DEV_CLIENT, "name": "Development tokens (dinamis token)", "publicClient": True,
    "standardFlowEnabled": False, "directAccessGrantsEnabled": True, "protocol": "openid-connect",
    "defaultClientScopes": [API_AUDIENCE, "basic", "profile", "email"], "attributes": {"access.token.lifespan": "3600"}}


def apply_realm(profile: Profile) -> None:
    """Create the realm from the file, with the development client; when either changed since,
    recreate it (development and test stacks only: their users are development users, made
    again on demand). An external Keycloak's realm is only created when missing."""
    document = realm_document(profile)
    digest = hashlib.sha256(json.dumps([document, DEV_CLIENT_DOCUMENT], sort_keys=True).encode()).hexdigest()
    marker = profile.path("keycloak", "realm.sha256")
    with Admin(profile) as admin:
        exists = admin.call("GET", f"/{REALM}").status_code == 200
        if exists and marker.exists() and marker.read_text() == digest:
            return
        if exists and not profile.external("keycloak"):
            admin.call("DELETE", f"/{REALM}")
        if not exists or not profile.external("keycloak"):
            admin.call("POST", "", json=document)
        if admin.client(DEV_CLIENT) is None:
            admin.call("POST", f"/{REALM}/clients", json=DEV_CLIENT_DOCUMENT)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest)


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
    """A real Keycloak access token for a development user (created or updated first)."""
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
