"""A test signing key: an RSA pair and its JWKS on disk, and tokens signed with it.

For unit tests and services run inside a test's own event loop only. The stack, ``dinamis
token`` and production use Keycloak's tokens and its JWKS; nothing here is used there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEV_ISSUER = "dinamis-test-key"
DEV_AUDIENCE = "dinamis-api"


def ensure_dev_keys(directory: Path, kid: str = "dinamis-dev-1") -> tuple[Path, Path]:
    """Creates ``dev-private.pem`` and ``jwks.json`` in ``directory`` unless present."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = directory / "dev-private.pem", directory / "jwks.json"
    if private_path.exists() and jwks_path.exists():
        return private_path, jwks_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private_path.write_bytes(pem)
    private_path.chmod(0o600)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
    return private_path, jwks_path


def mint_token(
    private_path: Path,
    jwks_path: Path,
    user: str,
    entity: str | None,
    roles: Iterable[str] = ("user",),
    category: str = "institutional",
    cells: Iterable[str] = (),
    ttl: int = 3600,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
) -> str:
    kid = json.loads(jwks_path.read_text())["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "iss": issuer, "aud": audience, "sub": user, "iat": now, "exp": now + ttl,
        "entity_id": entity, "entity_category": category, "roles": list(roles), "cells": list(cells),
    }
    return jwt.encode(claims, private_path.read_bytes(), algorithm="RS256", headers={"kid": kid})
