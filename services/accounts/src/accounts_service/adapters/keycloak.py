"""Keycloak, the identity provider, kept in step with the accounts service through its admin REST
API, as the ``svc-accounts`` service account (client credentials; its token cached until
shortly before it expires).

``push`` is idempotent: it makes Keycloak's user match the account (created if missing,
enabled or not, the ``entity_id`` / ``entity_category`` / ``cells`` attributes that become token
claims, the realm roles), so replaying an account's events converges. Keycloak unreachable or
failing (5xx, 408, 429) raises ``IdentityProviderUnavailable``, an ``OSError``: the consumer does
not acknowledge the event and retries it until Keycloak answers, so no change is lost. A refusal
(other 4xx, e.g. 409: the e-mail belongs to another Keycloak user) raises ``IdentityRefused``.

It never adopts a Keycloak user it did not create. A user it creates gets the user name
``dinamis-<account id>`` (deterministic: a retry after a crash finds its own creation again, and no
sign-in through a federation or THEIA can come with that name); people sign in with their e-mail
(the realm's ``loginWithEmailAllowed``). An account whose e-mail already belongs to another Keycloak
user (``duplicateEmailsAllowed`` is off) is refused, with the reason kept on the account for an
administrator to resolve; it is never merged into that user, who keeps their roles and attributes.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from accounts_service.domain.user import ACTIVE, ROLES, User
from accounts_service.service_layer.ports import IdentityRecord, IdentityRefused

FEDERATION = "federation"


class IdentityProviderUnavailable(ConnectionError):
    pass


def username_of(user: User) -> str:
    """The Keycloak user name this adapter gives the account it creates (reserved: see above)."""
    return f"dinamis-{user.id}"


def _message(r: httpx.Response) -> str:
    """Keycloak's own words (``errorMessage`` / ``error_description``), bounded."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:300]
    if isinstance(body, dict):
        return str(body.get("errorMessage") or body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


class KeycloakIdentityProvider:
    def __init__(self, base_url: str, realm: str, client_id: str, client_secret: str, portal_client: str,
                 portal_url: str, timeout: float = 15.0) -> None:
        self.realm, self.client_id, self.client_secret = realm, client_id, client_secret
        self.portal_client, self.portal_url = portal_client, portal_url
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._token: tuple[str, float] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def _bearer(self) -> str:
        if self._token is None or self._token[1] < time.monotonic():
            r = await self._send("POST", f"/realms/{self.realm}/protocol/openid-connect/token", auth=False, data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
            body = r.json()
            self._token = (body["access_token"], time.monotonic() + max(5, body.get("expires_in", 60) - 30))
        return self._token[0]

    async def _send(self, method: str, path: str, auth: bool = True, ok404: bool = False, **kw: Any) -> httpx.Response:
        for fresh in (False, True):  # a cached token Keycloak no longer honours: one more try with a new one
            headers = {"authorization": f"Bearer {await self._bearer()}"} if auth else {}
            try:
                r = await self.http.request(method, path, headers=headers, **kw)
            except httpx.TransportError as exc:
                raise IdentityProviderUnavailable(f"Keycloak unreachable: {exc}") from exc
            if r.status_code >= 500:
                raise IdentityProviderUnavailable(f"Keycloak {method} {path}: {r.status_code}")
            if not (r.status_code == 401 and auth and not fresh):
                break
            self._token = None
        if r.status_code in (408, 429):
            raise IdentityProviderUnavailable(f"Keycloak {method} {path}: {r.status_code}")
        if r.status_code >= 400 and not (ok404 and r.status_code == 404):
            raise IdentityRefused(f"Keycloak refused {method} {path}: {r.status_code} {_message(r)}")
        return r

    def _admin(self, path: str) -> str:
        return f"/admin/realms/{self.realm}{path}"

    async def _find(self, user: User) -> str | None:
        """The Keycloak user of this account: the one recorded (by its id, a federation sign-in's
        own), else the one this adapter made for it (by its reserved user name); never another."""
        if user.keycloak_id:
            r = await self._send("GET", self._admin(f"/users/{user.keycloak_id}"), ok404=True)
            if r.status_code == 200:
                return user.keycloak_id
        found = (await self._send("GET", self._admin("/users"),
                                  params={"username": username_of(user), "exact": "true"})).json()
        return found[0]["id"] if found else None

    async def _create(self, body: dict[str, Any], user: User) -> str:
        try:
            created = await self._send("POST", self._admin("/users"), json=body)
        except IdentityRefused as refused:
            if " 409 " in str(refused):
                raise IdentityRefused(
                    f"the e-mail {user.email} already belongs to another Keycloak user, which DINAMIS did not "
                    "create: it is not taken over; an administrator removes or renames that user (or the "
                    "person asks with another address)") from refused
            raise
        return created.headers["location"].rstrip("/").rsplit("/", 1)[1]

    async def push(self, user: User, entity_kind: str | None) -> tuple[str, bool]:
        body = {"username": username_of(user), "email": user.email.lower(), "emailVerified": True,
                "firstName": user.first_name, "lastName": user.last_name, "enabled": user.status == ACTIVE,
                "attributes": {"entity_id": [user.entity_id] if user.entity_id else [],
                               "entity_category": [entity_kind] if entity_kind else [], "cells": list(user.cells)}}
        kid = await self._find(user)
        if kid is None:
            kid = await self._create(body, user)
        else:
            current = (await self._send("GET", self._admin(f"/users/{kid}"))).json()
            attributes = {**(current.get("attributes") or {}), **body["attributes"]}
            # the user name is fixed once made (a federation's own, for people who came through one)
            await self._send("PUT", self._admin(f"/users/{kid}"), json={
                **body, "username": current["username"], "attributes": attributes})
        await self._roles(kid, user.roles if user.status == ACTIVE else [])
        if user.status != ACTIVE:
            await self._send("POST", self._admin(f"/users/{kid}/logout"))
        invited = user.invited or FEDERATION in user.linked
        if user.status == ACTIVE and not invited:
            await self._send("PUT", self._admin(f"/users/{kid}/execute-actions-email"), json=["UPDATE_PASSWORD"],
                             params={"client_id": self.portal_client, "redirect_uri": self.portal_url,
                                     "lifespan": 3 * 24 * 3600})
            invited = True
        return kid, invited

    async def _roles(self, kid: str, wanted: list[str]) -> None:
        path = self._admin(f"/users/{kid}/role-mappings/realm")
        current = {r["name"]: r for r in (await self._send("GET", path)).json()}
        remove = [r for name, r in current.items() if name in ROLES and name not in wanted]
        missing = [name for name in wanted if name not in current]
        if remove:
            await self._send("DELETE", path, json=remove)
        if missing:
            available = {r["name"]: r for r in (await self._send("GET", f"{path}/available")).json()}
            await self._send("POST", path, json=[available[n] for n in missing if n in available])

    async def lookup(self, keycloak_id: str) -> IdentityRecord | None:
        r = await self._send("GET", self._admin(f"/users/{keycloak_id}"), ok404=True)
        if r.status_code == 404:
            return None
        u = r.json()
        links = (await self._send("GET", self._admin(f"/users/{keycloak_id}/federated-identity"))).json()
        return IdentityRecord(keycloak_id=u["id"], username=u.get("username", ""), email=u.get("email", ""),
                              first_name=u.get("firstName", ""), last_name=u.get("lastName", ""),
                              attributes=u.get("attributes") or {},
                              linked={i["identityProvider"]: i.get("userName", "") for i in links})
