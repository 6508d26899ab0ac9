"""Keycloak's admin REST API and the secrets of the stack's Keycloak.

Secrets (the bootstrap administrator's password, the ``svc-accounts`` client secret, the
simulated identity providers' client secrets) are generated on first use and kept in the
profile's state directory (0600), never in the repository. An external Keycloak
(``KEYCLOAK_URL``) is administered with ``KEYCLOAK_ADMIN`` / ``KEYCLOAK_ADMIN_PASSWORD``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx

from dinamis_cli.stack.profile import Profile
from dinamis_cli.stack.secrets import secret

REALM = "dinamis"
SVC_ACCOUNTS = "svc-accounts"
PLACEHOLDER = re.compile(r"\$\{(DINAMIS_[A-Z0-9_]+)(?::([^}]*))?\}")


def base_url(profile: Profile) -> str:
    return profile.keycloak_url


def _secret(profile: Profile, name: str) -> str:
    return secret(profile, "keycloak", name)


def client_secret(profile: Profile, client: str) -> str:
    """The secret of a confidential client of the stack: ``DINAMIS_<CLIENT>_SECRET`` from the
    environment (as production's realm import reads it), else generated once for the profile."""
    return os.environ.get(f"DINAMIS_{client.upper().replace('-', '_')}_SECRET") or _secret(profile, f"{client}-secret")


def admin_credentials(profile: Profile) -> tuple[str, str]:
    if profile.external("keycloak"):
        return os.environ.get("KEYCLOAK_ADMIN", "admin"), os.environ["KEYCLOAK_ADMIN_PASSWORD"]
    return "admin", _secret(profile, "admin-password")


def fill(path: Path, values: dict[str, str]) -> dict[str, Any]:
    """A realm file with its ``${DINAMIS_…:default}`` placeholders filled (Keycloak's
    ``--import-realm`` fills the same syntax from the environment in production)."""
    return json.loads(PLACEHOLDER.sub(lambda m: values.get(m[1], m[2] or ""), path.read_text()))


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

    def client(self, client_id: str, realm: str = REALM) -> dict[str, Any] | None:
        found = self.call("GET", f"/{realm}/clients", params={"clientId": client_id}).json()
        return found[0] if found else None

    def put_realm(self, document: dict[str, Any], marker: Path, replace: bool, extra: object = None) -> bool:
        """Creates the realm of ``document`` unless the one there was made from the same document
        (digest in ``marker``); an existing one is replaced only if ``replace``. ``True`` if (re)created."""
        digest = hashlib.sha256(json.dumps([document, extra], sort_keys=True).encode()).hexdigest()
        name = document["realm"]
        exists = self.call("GET", f"/{name}").status_code == 200
        if exists and (not replace or (marker.exists() and marker.read_text() == digest)):
            return False
        if exists:
            self.call("DELETE", f"/{name}")
        self.call("POST", "", json=document)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest)
        return True
