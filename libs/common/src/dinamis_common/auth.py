"""Access-token verification against a JWKS (Keycloak's, or the development key's).

PyJWT does the cryptography (chosen over hand-written code: maintained, RFC 7515/7519
complete, refuses ``alg: none``). Keys are cached and refetched when a token names an
unknown key id, at most once every ``min_refresh_seconds``. Only asymmetric algorithms
are accepted, issuer and audience are always checked.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class Unauthorized(Exception):
    """The caller is not authenticated: 401."""


class Forbidden(Exception):
    """The caller is authenticated but not allowed: 403."""


@dataclass(frozen=True)
class Principal:
    """Who a verified token says the caller is: its subject, its roles and every claim as received.
    What the claims mean beyond that (an entity, cells…) is each service's business: it maps its
    own actor from ``claims`` in its ``entrypoints/deps.py``."""

    subject: str
    roles: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class JwksVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str, leeway: int = 30,
                 min_refresh_seconds: float = 10.0) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> dict[str, Any]:
        url = urlparse(self.jwks_url)
        if url.scheme == "file":
            return json.loads(await asyncio.to_thread(Path(url.path).read_text))
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            return response.json()

    async def refresh(self) -> int:
        """Fetch the key set now (readiness check); returns how many signing keys it has."""
        jwks = await self._fetch()
        self._keys = {
            k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", []) if k.get("use", "sig") == "sig" and "kid" in k
        }
        self._fetched_at = time.monotonic()
        if not self._keys:
            raise Unauthorized("the key set has no signing key")
        return len(self._keys)

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.min_refresh_seconds:
                try:
                    await self.refresh()
                except (OSError, httpx.HTTPError, ValueError, Unauthorized) as exc:
                    raise Unauthorized(f"cannot fetch signing keys: {exc}") from exc
        if kid not in self._keys:
            raise Unauthorized("token signed with an unknown key")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"malformed token: {exc}") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"token algorithm {header.get('alg')!r} is not accepted")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("token is for another audience") from exc
        except jwt.MissingRequiredClaimError as exc:
            what = "it is for another audience" if exc.claim == "aud" else "it is incomplete"
            raise Unauthorized(f"token has no {exc.claim!r} claim: {what}") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("token from an unknown issuer") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Roles from a ``roles`` claim, or Keycloak's ``realm_access.roles``."""
    roles = claims.get("roles") or (claims.get("realm_access") or {}).get("roles") or []
    return Principal(subject=str(claims["sub"]), roles=frozenset(str(r) for r in roles), claims=claims)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()
