"""Use cases of accounts: ask for one, activate, deactivate, roles, linked identities, and the
identity provider kept in step with what is decided here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from uuid6 import uuid7

from accounts_service.domain.access import Actor, may_manage_members, must_be_admin
from accounts_service.domain.entity import APPROVED
from accounts_service.domain.errors import Conflict, LinkInvalid, NotAllowed, NotFound
from accounts_service.domain.events import UserRequested
from accounts_service.domain.user import ACTIVE, EMAIL_PENDING, INACTIVE, VERIFY, User
from accounts_service.service_layer import mails
from accounts_service.service_layer.context import Accounts, retrying
from accounts_service.service_layer.ports import IdentityRefused
from accounts_service.service_layer.subscriptions import load as load_entity

_IDS = uuid.UUID("0b3f5f0e-6f1c-4f3e-9a51-2f6c1d9e7a10")
FEDERATION = "federation"


def correspondent_id(entity_id: str) -> str:
    """The account made for an entity's correspondent on approval: one per entity, whatever the replays."""
    return str(uuid.uuid5(_IDS, f"correspondent\x00{entity_id}"))


async def load(ctx: Accounts, user_id: str) -> User:
    user = await ctx.users.get(user_id)
    if user is None:
        raise NotFound(f"no account {user_id}")
    return user


async def _save(ctx: Accounts, user: User, applied_event: str | None = None) -> bool:
    correspondents = []
    if user.entity_id and any(isinstance(e, UserRequested) for e in user.events):
        correspondents = [u.email for u in await ctx.users.of_entity(user.entity_id)
                          if u.status == ACTIVE and "correspondent" in u.roles]
    return await ctx.users.save(user, mails.for_user(user, ctx.rules.portal_url, correspondents),
                                applied_event=applied_event)


async def change(ctx: Accounts, user_id: str, apply: Callable[[User], Awaitable[None] | None],
                 applied_event: str | None = None) -> User:
    async def attempt() -> User | None:
        user = await load(ctx, user_id)
        if applied_event and applied_event in user.seen_events:
            return user
        done = apply(user)
        if done is not None:
            await done
        return user if await _save(ctx, user, applied_event) else None

    return await retrying(attempt, f"account {user_id}")


async def request(ctx: Accounts, email: str, first_name: str, last_name: str, entity_id: str) -> User:
    entity = await ctx.entities.get(entity_id)
    if entity is None or entity.status != APPROVED:
        raise Conflict(f"entity {entity_id} is not an approved DINAMIS member: accounts open once it is")
    user = User.request(str(uuid7()), email, first_name, last_name, entity_id, ctx.clock(),
                        ctx.rules.verification_ttl)
    try:
        await ctx.users.add(user, mails.for_user(user, ctx.rules.portal_url))
    except Conflict:
        await _known_address(ctx, user.email, entity_id)
        user.events.clear()
    return user  # the same answer whether or not the address was known: only its mailbox learns which


async def _known_address(ctx: Accounts, email: str, entity_id: str) -> None:
    """An account request for an address that has an account: its owner is told by e-mail (a new
    validation link if that account still waits for one), and the caller learns nothing."""
    async def attempt() -> bool | None:
        existing = await ctx.users.by_email(email)
        if existing is None:
            return True  # swept meanwhile: nothing to tell
        if existing.status == EMAIL_PENDING:
            existing.renew_verification(ctx.clock(), ctx.rules.verification_ttl)
            return True if await _save(ctx, existing) else None
        entity = await ctx.entities.get(entity_id)
        notice = mails.already_known(existing, entity.name if entity else entity_id, ctx.rules.portal_url)
        return True if await ctx.users.save(existing, [notice]) else None

    await retrying(attempt, "account request")


async def verify_email(ctx: Accounts, user_id: str, token: str) -> User:
    if await ctx.users.get(user_id) is None:  # as an invalid token: an account id proves nothing
        raise LinkInvalid(f"this {VERIFY} link is not valid")
    return await change(ctx, user_id, lambda u: u.verify_email(token, ctx.clock()))


async def activate(ctx: Accounts, user_id: str, actor: Actor) -> User:
    async def apply(user: User) -> None:
        may_manage_members(actor, user.entity_id)
        if user.entity_id and (await load_entity(ctx, user.entity_id)).status != APPROVED:
            raise Conflict(f"entity {user.entity_id} is not an approved member: its accounts cannot be activated")
        user.activate(actor.username, ctx.clock())

    return await change(ctx, user_id, apply)


async def deactivate(ctx: Accounts, user_id: str, reason: str, actor: Actor) -> User:
    def apply(user: User) -> None:
        may_manage_members(actor, user.entity_id)
        if actor.is_account(user.keycloak_id):
            raise NotAllowed("you cannot deactivate your own account")
        user.deactivate(actor.username, reason, ctx.clock())

    return await change(ctx, user_id, apply)


async def change_roles(ctx: Accounts, user_id: str, roles: list[str], cells: list[str], reason: str,
                       actor: Actor) -> User:
    must_be_admin(actor)
    return await change(ctx, user_id, lambda u: u.change_roles(
        roles, cells, actor.username, actor.is_account(u.keycloak_id), reason, ctx.clock()))


async def visible_user(ctx: Accounts, user_id: str, actor: Actor) -> User:
    user = await load(ctx, user_id)
    if not actor.is_account(user.keycloak_id):
        may_manage_members(actor, user.entity_id)
    return user


async def members(ctx: Accounts, entity_id: str, actor: Actor) -> list[User]:
    may_manage_members(actor, entity_id)
    return await ctx.users.of_entity(entity_id)


async def me(ctx: Accounts, actor: Actor) -> User:
    user = await ctx.users.by_keycloak_id(actor.subject)
    if user is None:
        raise NotFound("you have no DINAMIS account record yet (a federation sign-in enrols with "
                       "POST /api/accounts/me/enrolment)")
    return user


async def refresh_linked_identities(ctx: Accounts, actor: Actor) -> User:
    """Records the THEIA / GEOSUD / federation links the identity provider now reports."""
    user = await me(ctx, actor)
    record = await ctx.identity.lookup(actor.subject)
    if record is None:
        raise NotFound("the identity provider does not know you")
    if all(p in user.linked and user.linked[p].username == n for p, n in record.linked.items()):
        return user  # nothing new: no write

    def record_links(u: User) -> None:
        for provider, username in sorted(record.linked.items()):
            u.identity_linked(provider, username, ctx.clock())

    return await change(ctx, user.id, record_links)


async def enrol_from_federation(ctx: Accounts, actor: Actor) -> User:
    """A person who signed in through their organisation's federation asks to join the approved
    entity whose SIRET the federation asserts: exactly that SIRET (an establishment; never another
    establishment of the same SIREN). The account waits (``requested``) until the entity's
    correspondent activates it, as any account request does; the correspondent is told. Idempotent:
    a second call returns the same account."""
    existing = await ctx.users.by_keycloak_id(actor.subject)
    if existing is not None:
        return existing
    record = await ctx.identity.lookup(actor.subject)
    if record is None or FEDERATION not in record.linked:
        raise NotAllowed("only a person signed in through an organisation federation enrols this way")
    siret = (record.attributes.get("siret") or [""])[0].replace(" ", "")
    if not siret:
        raise NotFound("the federation did not say which organisation you belong to (no SIRET)")
    exact = [e for e in await ctx.entities.find_by_siren(siret[:9])
             if e.status == APPROVED and e.identifier is not None and e.identifier.value == siret]
    if not exact:
        raise NotFound(f"no approved DINAMIS entity for SIRET {siret}: your organisation subscribes first")
    entity = exact[0]
    user = User.federated(str(uuid.uuid5(_IDS, f"keycloak\x00{actor.subject}")), record.email, record.first_name,
                          record.last_name, entity.id, actor.subject, ctx.clock())
    user.identity_linked(FEDERATION, record.linked[FEDERATION], ctx.clock())
    correspondents = [u.email for u in await ctx.users.of_entity(entity.id)
                      if u.status == ACTIVE and "correspondent" in u.roles]
    if not await ctx.users.add(user, mails.for_user(user, ctx.rules.portal_url, correspondents)):
        return await load(ctx, user.id)
    return user


async def enrol_correspondent(ctx: Accounts, entity_id: str) -> User | None:
    """On approval, the correspondent named in the subscription gets an active account."""
    entity = await load_entity(ctx, entity_id)
    person = entity.correspondent
    user = User.enrol(correspondent_id(entity_id), person.email, person.first_name, person.last_name, entity_id,
                      ["correspondent", "user"], "dinamis", ctx.clock())
    added = await ctx.users.add(user, mails.for_user(user, ctx.rules.portal_url))
    return user if added else None


async def sync_identity(ctx: Accounts, user_id: str) -> None:
    """Keycloak made to match the account (at least once per account event; idempotent)."""
    user = await load(ctx, user_id)
    if user.status not in (ACTIVE, INACTIVE):
        return  # nothing to create or grant before activation (a pending federation sign-in keeps no role)
    kind = (await load_entity(ctx, user.entity_id)).kind if user.entity_id else None
    try:
        keycloak_id, invited = await ctx.identity.push(user, kind)
    except IdentityRefused as refused:
        # retrying cannot help: the account says why, for its correspondent and the administrators
        reason = str(refused)
        if user.identity_problem != reason:
            await change(ctx, user_id, lambda u: _note(u.identity_refused(reason)))
        return
    if (keycloak_id, invited, None) != (user.keycloak_id, user.invited, user.identity_problem):
        await change(ctx, user_id, lambda u: u.synced(keycloak_id, invited))


def _note(_changed: bool) -> None:
    """A domain method's yes/no where ``change`` wants nothing (or an awaitable) back."""
