"""Accounts of an entity's people through the use cases, on in-memory repositories: asking,
activation by the right correspondent only, roles changed by an administrator (never their own)
and kept in an audit trail, linked identities, enrolment after a federation sign-in."""

from __future__ import annotations

import re

import pytest
from accounts_service.domain.access import Actor
from accounts_service.domain.errors import Conflict, InvalidInput, LinkInvalid, NotAllowed, NotFound
from accounts_service.service_layer import members


def correspondent_of(entity_id: str, subject: str = "kc-corr") -> Actor:
    return Actor(subject, "camille", entity_id, frozenset({"user", "correspondent"}))


async def asked(ctx, journey, entity_id: str, email: str = "bob@ville-exemple.fr"):
    user = await members.request(ctx, email, "Bob", "Géomaticien", entity_id)
    return await members.verify_email(ctx, user.id, journey.token(email))


async def test_approval_makes_the_correspondent_an_active_account_once(ctx, journey):
    entity_id = await journey.approved()
    first = await members.enrol_correspondent(ctx, entity_id)
    assert await members.enrol_correspondent(ctx, entity_id) is None  # replayed approval: still one account
    assert (first.status, first.roles, first.email) == ("active", ["correspondent", "user"], "corr@ville-exemple.fr")
    assert ctx.users.types() == ["user.activated.v1"]


async def test_a_person_asks_the_correspondent_is_told_and_activates_them(ctx, journey):
    entity_id = await journey.approved()
    await members.enrol_correspondent(ctx, entity_id)
    user = await asked(ctx, journey, entity_id)
    assert user.status == "requested" and ctx.users.types()[-1] == "user.requested.v1"
    told = journey.mails_to("corr@ville-exemple.fr")[-1]
    assert "Bob Géomaticien <bob@ville-exemple.fr> asks for a DINAMIS account" in told.body

    active = await members.activate(ctx, user.id, correspondent_of(entity_id))
    assert (active.status, active.roles) == ("active", ["user"])
    wire = ctx.users.events[-1]
    assert (wire.type, wire.data["entity_id"], wire.data["roles"], wire.data["activated_by"]) == (
        "fr.dinamis.accounts.user.activated.v1", entity_id, ["user"], "camille")
    await members.sync_identity(ctx, user.id)
    assert ctx.identity.pushed[-1] == (user.id, "active", ("user",), "institutional")
    assert (await members.load(ctx, user.id)).keycloak_id == f"kc-{user.id[:8]}"


async def test_accounts_open_only_in_an_approved_entity_and_once_per_address(ctx, journey):
    pending = await journey.described()
    with pytest.raises(Conflict, match="not an approved DINAMIS member"):
        await members.request(ctx, "bob@ville-exemple.fr", "Bob", "G", pending)
    approved = await journey.approved("c2@ville-exemple.fr", identifier="21340172201779")
    first = await members.request(ctx, "bob@ville-exemple.fr", "Bob", "G", approved)
    again = await members.request(ctx, "BOB@ville-exemple.fr", "Bob", "G", approved)  # no 409 naming the address
    assert again.id != first.id and again.status == first.status == "email-pending"
    assert [u.id for u in ctx.users.rows.values() if u.email == "bob@ville-exemple.fr"] == [first.id]
    # still pending: a new link, to the address only, replaces the first one
    with pytest.raises(LinkInvalid):
        await members.verify_email(ctx, again.id, journey.token("bob@ville-exemple.fr"))  # the made-up id
    old_link = re.search(r"token=([\w-]+)", journey.mails_to("bob@ville-exemple.fr")[0].body)[1]
    with pytest.raises(LinkInvalid):
        await members.verify_email(ctx, first.id, old_link)
    await members.verify_email(ctx, first.id, journey.token("bob@ville-exemple.fr"))

    await members.request(ctx, "bob@ville-exemple.fr", "Bob", "G", approved)  # validated: told by e-mail
    told = journey.mails_to("bob@ville-exemple.fr")[-1]
    assert "has an account already" in told.body and "token=" not in told.body


async def test_an_unknown_account_id_is_answered_as_an_invalid_link(ctx, journey):
    with pytest.raises(LinkInvalid, match="not valid"):
        await members.verify_email(ctx, "0190aaaa-0000-7000-8000-000000000000", "x" * 43)


async def test_a_replayed_or_foreign_link_does_not_validate_an_account(ctx, journey):
    entity_id = await journey.approved()
    user = await members.request(ctx, "bob@ville-exemple.fr", "Bob", "G", entity_id)
    token = journey.token("bob@ville-exemple.fr")
    other = await members.request(ctx, "eve@ville-exemple.fr", "Eve", "H", entity_id)
    with pytest.raises(LinkInvalid):
        await members.verify_email(ctx, other.id, token)  # Bob's link on Eve's account
    await members.verify_email(ctx, user.id, token)
    with pytest.raises(LinkInvalid, match="already used"):
        await members.verify_email(ctx, user.id, token)


async def test_a_correspondent_acts_only_on_their_own_entity(ctx, journey):
    mine = await journey.approved()
    theirs = await journey.approved("c2@ville-exemple.fr", identifier="21340172201779")
    user = await asked(ctx, journey, theirs)
    with pytest.raises(NotAllowed, match="correspondent of another entity"):
        await members.activate(ctx, user.id, correspondent_of(mine))
    with pytest.raises(NotAllowed, match="another entity"):
        await members.members(ctx, theirs, correspondent_of(mine))
    plain = Actor("kc-plain", "p", theirs, frozenset({"user"}))
    with pytest.raises(NotAllowed, match="only the entity's correspondent"):
        await members.activate(ctx, user.id, plain)
    assert (await members.load(ctx, user.id)).status == "requested"


async def test_deactivation_states_a_reason_and_is_not_for_oneself(ctx, journey):
    entity_id = await journey.approved()
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))
    with pytest.raises(InvalidInput, match="reason"):
        await members.deactivate(ctx, user.id, "  ", correspondent_of(entity_id))
    await members.sync_identity(ctx, user.id)
    keycloak_id = (await members.load(ctx, user.id)).keycloak_id
    with pytest.raises(NotAllowed, match="your own account"):
        await members.deactivate(ctx, user.id, "leaving", correspondent_of(entity_id, subject=keycloak_id))
    done = await members.deactivate(ctx, user.id, "left the lab", correspondent_of(entity_id))
    assert done.status == "inactive" and ctx.users.types()[-1] == "user.deactivated.v1"
    assert "left the lab" in journey.mails_to("bob@ville-exemple.fr")[-1].body


async def test_roles_change_by_an_administrator_with_a_reason_and_an_audit_trail(ctx, journey, clock):
    entity_id = await journey.approved()
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))
    with pytest.raises(NotAllowed, match="only an administrator"):
        await members.change_roles(ctx, user.id, ["user", "arbiter"], ["institutional"], "x",
                                   correspondent_of(entity_id))
    with pytest.raises(InvalidInput, match="arbiter is given one or more cells"):
        await members.change_roles(ctx, user.id, ["user", "arbiter"], [], "cell member", journey.admin)
    with pytest.raises(InvalidInput, match="unknown role or cell: emperor"):
        await members.change_roles(ctx, user.id, ["emperor"], [], "why not", journey.admin)
    clock.advance(minutes=5)
    changed = await members.change_roles(ctx, user.id, ["user", "arbiter"], ["institutional"],
                                         "joins the institutional cell", journey.admin)
    [entry] = changed.audit
    assert (entry.roles, entry.cells, entry.previous_roles, entry.by, entry.at, entry.reason) == (
        ["arbiter", "user"], ["institutional"], ["user"], "ada.admin", clock.now, "joins the institutional cell")
    wire = ctx.users.events[-1].data
    assert (wire["roles"], wire["cells"], wire["previous_roles"], wire["changed_by"]) == (
        ["arbiter", "user"], ["institutional"], ["user"], "ada.admin")


async def test_nobody_gives_themselves_a_role(ctx, journey):
    entity_id = await journey.approved()
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))
    await members.sync_identity(ctx, user.id)
    me = await members.load(ctx, user.id)
    myself_as_admin = Actor(me.keycloak_id, "bob", entity_id, frozenset({"user", "admin"}))
    with pytest.raises(NotAllowed, match="own roles"):
        await members.change_roles(ctx, user.id, ["user", "operator"], [], "promotion", myself_as_admin)
    assert (await members.load(ctx, user.id)).roles == ["user"]


async def test_an_account_is_its_owners_by_subject_never_by_e_mail(ctx, journey):
    entity_id = await journey.approved()
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))  # not synced to Keycloak yet
    stranger = Actor("kc-someone-else", "bob@ville-exemple.fr", None, frozenset({"user"}))
    with pytest.raises(NotAllowed):
        await members.visible_user(ctx, user.id, stranger)  # same address in their profile: not the owner
    await members.sync_identity(ctx, user.id)
    owner = Actor((await members.load(ctx, user.id)).keycloak_id, "whatever", None, frozenset({"user"}))
    assert (await members.visible_user(ctx, user.id, owner)).id == user.id


async def test_linked_theia_identity_is_recorded_once(ctx, journey, record):
    entity_id = await journey.approved()
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))
    await members.sync_identity(ctx, user.id)
    keycloak_id = (await members.load(ctx, user.id)).keycloak_id
    me = Actor(keycloak_id, "bob", entity_id, frozenset({"user"}))
    ctx.identity.records[keycloak_id] = record(keycloak_id, linked={"theia": "bob.theia"})
    linked = await members.refresh_linked_identities(ctx, me)
    await members.refresh_linked_identities(ctx, me)
    assert {p: i.username for p, i in linked.linked.items()} == {"theia": "bob.theia"}
    assert ctx.users.types().count("identity.linked.v1") == 1
    assert ctx.users.events[-1].data["linked_identities"] == ["theia"]


async def test_a_federation_sign_in_enrols_the_person_in_the_entity_of_their_siret(ctx, journey, record):
    entity_id = await journey.approved()
    await members.enrol_correspondent(ctx, entity_id)
    agent = Actor("kc-agent", "agent", None, frozenset())
    ctx.identity.records["kc-agent"] = record("kc-agent", siret="21340172201787", linked={"federation": "agent-42"})
    enrolled = await members.enrol_from_federation(ctx, agent)
    again = await members.enrol_from_federation(ctx, agent)
    assert enrolled.id == again.id and (enrolled.entity_id, enrolled.status, enrolled.roles) == (
        entity_id, "requested", [])  # pending until the correspondent activates them
    told = journey.mails_to("corr@ville-exemple.fr")[-1].body
    assert "agent@ville-exemple.fr" in told and "federation" in told and "activate or refuse" in told
    pushed = len(ctx.identity.pushed)
    await members.sync_identity(ctx, enrolled.id)
    assert len(ctx.identity.pushed) == pushed  # no role, no entity in Keycloak while pending
    await members.activate(ctx, enrolled.id, correspondent_of(entity_id))
    await members.sync_identity(ctx, enrolled.id)
    assert ctx.identity.pushed[-1][1:] == ("active", ("user",), "institutional")

    # another establishment of the same SIREN (same first nine digits) is not this entity
    ctx.identity.records["kc-sibling"] = record("kc-sibling", siret="21340172201779", linked={"federation": "s"},
                                                email="s@ville-exemple.fr")
    with pytest.raises(NotFound, match="no approved DINAMIS entity for SIRET 21340172201779"):
        await members.enrol_from_federation(ctx, Actor("kc-sibling", "s", None, frozenset()))

    ctx.identity.records["kc-stranger"] = record("kc-stranger", siret="55203253400646", linked={"federation": "x"},
                                                 email="x@elsewhere.example.org")
    with pytest.raises(NotFound, match="no approved DINAMIS entity for SIRET 55203253400646"):
        await members.enrol_from_federation(ctx, Actor("kc-stranger", "x", None, frozenset()))
    ctx.identity.records["kc-local"] = record("kc-local", siret="21340172201787", email="l@ville-exemple.fr")
    with pytest.raises(NotAllowed, match="federation"):
        await members.enrol_from_federation(ctx, Actor("kc-local", "l", None, frozenset()))


async def test_an_account_the_identity_provider_refuses_says_why_and_is_taken_once_it_accepts(ctx, journey):
    entity_id = await journey.approved()
    await members.enrol_correspondent(ctx, entity_id)
    user = await asked(ctx, journey, entity_id)
    await members.activate(ctx, user.id, correspondent_of(entity_id))
    announced = len(ctx.users.events)
    ctx.identity.refusal = "Keycloak refused POST /users: 409 User exists with same email"
    await members.sync_identity(ctx, user.id)  # no exception: nothing to retry, a person must act
    await members.sync_identity(ctx, user.id)  # said once, not once per delivery
    refused = await members.load(ctx, user.id)
    assert refused.identity_problem == "Keycloak refused POST /users: 409 User exists with same email"
    assert refused.keycloak_id is None and len(ctx.users.events) == announced  # nothing announced

    ctx.identity.refusal = None  # the administrator freed the address in Keycloak
    await members.sync_identity(ctx, user.id)
    taken = await members.load(ctx, user.id)
    assert taken.identity_problem is None and taken.keycloak_id == f"kc-{user.id[:8]}"
