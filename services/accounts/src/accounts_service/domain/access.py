"""Who may act on which entity or account. An organisation never sees another's private data:
an entity's details, members and certificate are for its own members and the administrators."""

from __future__ import annotations

from dataclasses import dataclass

from accounts_service.domain.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    username: str  # for the audit trail
    entity_id: str | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def is_account(self, keycloak_id: str | None) -> bool:
        """Whether this actor is the person of that account: by the identity provider's immutable
        id (the token's ``sub``) only. Never by the token's ``email`` claim, which a person may edit
        in their Keycloak profile: an account not yet known to Keycloak is nobody's until it is."""
        return keycloak_id is not None and keycloak_id == self.subject


def must_be_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed("only an administrator may do this")


def may_see_entity(actor: Actor, entity_id: str) -> None:
    if not actor.is_admin and actor.entity_id != entity_id:
        raise NotAllowed("you can only see your own entity")


def may_manage_members(actor: Actor, entity_id: str | None) -> None:
    if actor.is_admin:
        return
    if "correspondent" not in actor.roles:
        raise NotAllowed("only the entity's correspondent (or an administrator) manages its accounts")
    if entity_id is None or actor.entity_id != entity_id:
        raise NotAllowed("you are the correspondent of another entity: you cannot manage this account")
