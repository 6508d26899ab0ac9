"""The development signing key of a profile, and tokens signed with it (development only:
production verifies Keycloak's tokens through its JWKS URL)."""

from __future__ import annotations

from pathlib import Path

from dinamis_common.devtokens import ensure_dev_keys
from dinamis_common.devtokens import mint_token as _mint

from dinamis_cli.stack.profile import Profile


def dev_keys(profile: Profile) -> tuple[Path, Path]:
    return ensure_dev_keys(profile.path("keys"))


def mint_token(profile: Profile, user: str, entity: str | None, roles: list[str],
               category: str = "institutional", cells: tuple[str, ...] | list[str] = (), ttl: int = 3600) -> str:
    private, jwks = profile.path("keys", "dev-private.pem"), profile.path("keys", "jwks.json")
    if not private.exists():
        raise FileNotFoundError(f"no development key for profile {profile.name!r}: run `dinamis up` first")
    return _mint(private, jwks, user=user, entity=entity, roles=roles, category=category, cells=cells, ttl=ttl)
