"""Simulated identity providers for development and tests: realms of the stack's own Keycloak
that play THEIA (and GEOSUD) and an organisation federation, applied from ``deploy/keycloak/dev``.

The ``dinamis`` realm's identity providers point at them in the dev and test profiles; never on
an external Keycloak (production's providers are the real ones, from the environment).
"""

from __future__ import annotations

import os
from typing import Any

from dinamis_cli.stack.keycloak_admin import Admin, _secret, fill
from dinamis_cli.stack.profile import Profile

SIMS = {"theia-sim": "theia-sim-realm.json", "federation-sim": "federation-sim-realm.json"}
PROVIDERS = {"theia": "theia-sim", "geosud": "theia-sim", "federation": "federation-sim"}  # alias -> its sim
BROKER_CLIENT = "dinamis-broker"


def provider_values(profile: Profile) -> dict[str, str]:
    """Placeholder values pointing the ``dinamis`` realm's providers at the sims (dev and test)."""
    if profile.external("keycloak"):
        return {}
    sim_secrets = {sim: os.environ.get(f"DINAMIS_{sim.split('-')[0].upper()}_CLIENT_SECRET")
                   or _secret(profile, f"{sim}-secret") for sim in SIMS}
    values = {"DINAMIS_KEYCLOAK_URL": profile.keycloak_url}
    for alias, sim in PROVIDERS.items():
        issuer = f"{profile.keycloak_url}/realms/{sim}"
        oidc = f"{issuer}/protocol/openid-connect"
        prefix = f"DINAMIS_{alias.upper()}_"
        values.update({
            f"{prefix}ISSUER": issuer, f"{prefix}AUTHORIZATION_URL": f"{oidc}/auth",
            f"{prefix}TOKEN_URL": f"{oidc}/token", f"{prefix}USERINFO_URL": f"{oidc}/userinfo",
            f"{prefix}JWKS_URL": f"{oidc}/certs", f"{prefix}LOGOUT_URL": f"{oidc}/logout",
            f"{prefix}CLIENT_ID": BROKER_CLIENT, f"{prefix}CLIENT_SECRET": sim_secrets[sim]})
    return values


def apply_sims(admin: Admin, profile: Profile, values: dict[str, str]) -> None:
    """(Re)creates each sim realm whose file, once filled, changed since it was applied."""
    if profile.external("keycloak"):
        return
    for realm, file in SIMS.items():
        document = fill(profile.root / "deploy" / "keycloak" / "dev" / file, values)
        admin.put_realm(document, profile.path("keycloak", f"{realm}.sha256"), replace=True)


def ensure_sim_user(profile: Profile, realm: str, username: str, password: str, email: str, first: str, last: str,
                    attributes: dict[str, list[str]] | None = None) -> str:
    """A person of a simulated provider, with this password and these attributes; returns its id."""
    if realm not in SIMS:
        raise ValueError(f"unknown simulated provider realm {realm!r}: choose one of {', '.join(SIMS)}")
    body: dict[str, Any] = {"username": username, "enabled": True, "email": email, "emailVerified": True,
                            "firstName": first, "lastName": last, "attributes": attributes or {},
                            "requiredActions": []}
    with Admin(profile) as admin:
        found = admin.call("GET", f"/{realm}/users", params={"username": username, "exact": "true"}).json()
        if found:
            uid = found[0]["id"]
            admin.call("PUT", f"/{realm}/users/{uid}", json=body)
        else:
            uid = admin.call("POST", f"/{realm}/users", json=body).headers["location"].rsplit("/", 1)[1]
        admin.call("PUT", f"/{realm}/users/{uid}/reset-password",
                   json={"type": "password", "value": password, "temporary": False})
    return uid
