"""A person's account, attached to an approved entity: they ask for it (and validate their
e-mail), the entity's correspondent activates or deactivates it, an administrator changes roles
(never their own), every role change is kept with who, when and why. Links to THEIA / GEOSUD
(needed to download SPOT 6/7) or to a federation are recorded as the identity provider reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accounts_service.domain.errors import Conflict, InvalidInput, NotAllowed
from accounts_service.domain.events import (
    EmailVerificationRequested,
    IdentityLinked,
    RolesChanged,
    UserActivated,
    UserDeactivated,
    UserRequested,
)
from accounts_service.domain.links import Link, use_link

ROLES = ("user", "correspondent", "arbiter", "operator", "admin")
CELLS = ("pleiades-science", "institutional", "spot-science")
EMAIL_PENDING, REQUESTED, ACTIVE, INACTIVE = "email-pending", "requested", "active", "inactive"
VERIFY = "e-mail validation"


@dataclass(frozen=True)
class RoleChange:
    roles: list[str]
    cells: list[str]
    previous_roles: list[str]
    previous_cells: list[str]
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class LinkedIdentity:
    provider: str
    username: str
    linked_at: datetime


@dataclass
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    entity_id: str | None
    created_at: datetime
    status: str = EMAIL_PENDING
    roles: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    keycloak_id: str | None = None
    invited: bool = False  # Keycloak sent the set-your-password e-mail
    # why the identity provider refused to take this account as it is (a person must act), if it did
    identity_problem: str | None = None
    linked: dict[str, LinkedIdentity] = field(default_factory=dict)
    audit: list[RoleChange] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)
    version: int = 0
    seen_events: set[str] = field(default_factory=set)
    events: list[Any] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def duplicate(self) -> Conflict:
        """The error when another account has this one's e-mail address."""
        return Conflict(f"an account with the e-mail {self.email} exists already")

    @classmethod
    def request(cls, user_id: str, email: str, first_name: str, last_name: str, entity_id: str,
                now: datetime, ttl: timedelta) -> User:
        user = cls(user_id, email.strip().lower(), first_name.strip(), last_name.strip(), entity_id, now)
        link, token = Link.issue(VERIFY, now, ttl)
        user.links[VERIFY] = link
        user.events.append(EmailVerificationRequested(user.email, user.name, token))
        return user

    @classmethod
    def enrol(cls, user_id: str, email: str, first_name: str, last_name: str, entity_id: str | None,
              roles: list[str], by: str, now: datetime, keycloak_id: str | None = None) -> User:
        """An account that is active at once: the correspondent named in an approved subscription,
        or a person whose organisation's federation vouched for them."""
        user = cls(user_id, email.strip().lower(), first_name.strip(), last_name.strip(), entity_id, now, status=ACTIVE,
                   roles=list(roles), keycloak_id=keycloak_id)
        user.events.append(UserActivated(by, now))
        return user

    @classmethod
    def federated(cls, user_id: str, email: str, first_name: str, last_name: str, entity_id: str,
                  keycloak_id: str, now: datetime) -> User:
        """A person whose organisation's federation vouched for their address and SIRET: their
        request waits for the entity's correspondent like any other (no e-mail to validate)."""
        user = cls(user_id, email.strip().lower(), first_name.strip(), last_name.strip(), entity_id, now,
                   status=REQUESTED, keycloak_id=keycloak_id)
        user.events.append(UserRequested(now))
        return user

    def renew_verification(self, now: datetime, ttl: timedelta) -> None:
        """Asked again before validating: a new link replaces the old one."""
        if self.status != EMAIL_PENDING:
            raise Conflict("this e-mail address is already validated")
        link, token = Link.issue(VERIFY, now, ttl)
        self.links[VERIFY] = link
        self.events.append(EmailVerificationRequested(self.email, self.name, token))

    def verify_email(self, token: str, now: datetime) -> None:
        use_link(self.links, VERIFY, token, now)
        if self.status != EMAIL_PENDING:
            raise Conflict("this e-mail address is already validated")
        self.status = REQUESTED
        self.events.append(UserRequested(now))

    def activate(self, by: str, now: datetime) -> None:
        if self.status not in (REQUESTED, INACTIVE):
            raise Conflict(f"this account is {self.status}: it cannot be activated")
        self.status = ACTIVE
        self.roles = self.roles or ["user"]
        self.events.append(UserActivated(by, now))

    def deactivate(self, by: str, reason: str, now: datetime) -> None:
        if self.status != ACTIVE:
            raise Conflict(f"this account is {self.status}: it cannot be deactivated")
        if not reason.strip():
            raise InvalidInput("a deactivation states its reason")
        self.status = INACTIVE
        self.events.append(UserDeactivated(by, now, reason.strip()))

    def change_roles(self, roles: list[str], cells: list[str], by: str, by_self: bool, reason: str,
                     now: datetime) -> None:
        if by_self:
            raise NotAllowed("nobody changes their own roles: ask another administrator")
        if self.status != ACTIVE:
            raise Conflict(f"this account is {self.status}: activate it before giving it roles")
        if not reason.strip():
            raise InvalidInput("a role change states its reason")
        roles, cells = sorted(set(roles)), sorted(set(cells))
        unknown = [r for r in roles if r not in ROLES] + [c for c in cells if c not in CELLS]
        if unknown:
            raise InvalidInput(f"unknown role or cell: {', '.join(unknown)} (roles: {', '.join(ROLES)}; "
                               f"cells: {', '.join(CELLS)})")
        if not roles:
            raise InvalidInput("an active account keeps at least one role (deactivate it instead)")
        if ("arbiter" in roles) != bool(cells):
            raise InvalidInput("an arbiter is given one or more cells, and only an arbiter has cells")
        if "correspondent" in roles and not self.entity_id:
            raise InvalidInput("a correspondent belongs to an entity")
        if (roles, cells) == (self.roles, self.cells):
            raise Conflict("these are already the account's roles and cells")
        change = RoleChange(roles, cells, self.roles, self.cells, by, now, reason.strip())
        self.audit.append(change)
        self.roles, self.cells = roles, cells
        self.events.append(RolesChanged(change.previous_roles, change.previous_cells, by, now, change.reason))

    def identity_linked(self, provider: str, username: str, now: datetime) -> bool:
        """Records a link the identity provider reports; ``False`` if it was known already."""
        known = self.linked.get(provider)
        if known is not None and known.username == username:
            return False
        self.linked[provider] = LinkedIdentity(provider, username, now)
        self.events.append(IdentityLinked(provider, now))
        return True

    def synced(self, keycloak_id: str, invited: bool) -> None:
        self.keycloak_id, self.invited, self.identity_problem = keycloak_id, invited, None

    def identity_refused(self, reason: str) -> bool:
        """The identity provider refused this account for good (say, its e-mail belongs to another
        sign-in): kept on the account, where its correspondent and the administrators see it."""
        if self.identity_problem == reason:
            return False
        self.identity_problem = reason
        return True
