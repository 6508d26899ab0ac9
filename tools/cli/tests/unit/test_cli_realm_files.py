"""The realm files: no secret in the repository, every placeholder filled for a development stack,
secrets generated once (owner-only) and shared by both sides of each broker connection."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from dinamis_cli.stack.keycloak import realm_document
from dinamis_cli.stack.keycloak_admin import PLACEHOLDER, fill
from dinamis_cli.stack.keycloak_sims import SIMS, provider_values
from dinamis_cli.stack.profile import Profile

DEPLOY = Path(__file__).resolve().parents[4] / "deploy" / "keycloak"
FILES = [DEPLOY / "dinamis-realm.json", *(DEPLOY / "dev" / f for f in SIMS.values())]


@pytest.fixture
def profile(tmp_path, monkeypatch) -> Profile:
    for name in ("KEYCLOAK_URL", "SMTP_HOST", "DINAMIS_SVC_ACCOUNTS_SECRET", "DINAMIS_THEIA_CLIENT_SECRET",
                 "DINAMIS_FEDERATION_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(DEPLOY, tmp_path / "deploy" / "keycloak")
    return Profile("test", tmp_path, {"keycloak": 18080, "gateway": 18000, "mail": 12525})


def secrets_in(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in ("secret", "clientSecret") and isinstance(v, str)] + [
            s for v in node.values() for s in secrets_in(v)]
    return [s for v in node for s in secrets_in(v)] if isinstance(node, list) else []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_secret_in_a_realm_file_is_a_placeholder_without_a_default(path):
    found = secrets_in(json.loads(path.read_text()))
    assert found and all(PLACEHOLDER.fullmatch(s) and ":" not in s for s in found), found


def test_a_development_stack_fills_every_placeholder_and_keeps_its_secrets_owner_only(profile):
    document = realm_document(profile)
    assert "${DINAMIS_" not in json.dumps(document)
    assert document["smtpServer"]["port"] == "12525"
    providers = {p["alias"]: p for p in document["identityProviders"]}
    assert providers["theia"]["linkOnly"] and not providers["federation"]["linkOnly"]
    assert providers["federation"]["config"]["issuer"] == "http://127.0.0.1:18080/realms/federation-sim"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in profile.path("keycloak").iterdir())
    assert realm_document(profile) == document  # generated once, the same after

    values = provider_values(profile)
    for alias, sim in (("theia", "theia-sim"), ("federation", "federation-sim")):
        [broker] = fill(DEPLOY / "dev" / SIMS[sim], values)["clients"]
        assert broker["secret"] == providers[alias]["config"]["clientSecret"]
        assert f"http://127.0.0.1:18080/realms/dinamis/broker/{alias}/endpoint" in broker["redirectUris"]
