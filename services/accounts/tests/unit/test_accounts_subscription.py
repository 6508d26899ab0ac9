"""An entity's subscription through the use cases, on in-memory repositories: what the
correspondent, the legal representative and the administrators see at each step."""

from __future__ import annotations

import pytest
from accounts_service.domain.access import Actor
from accounts_service.domain.entity import Person
from accounts_service.domain.errors import Conflict, InvalidInput, LinkInvalid, NotAllowed
from accounts_service.service_layer import documents, subscriptions
from accounts_service.service_layer.subscriptions import Origin

REP = Person("Louise", "Maire", "maire@ville-exemple.fr", "Mayor")


async def test_a_french_public_body_subscribes_and_is_approved_with_a_certificate(ctx, journey):
    entity_id = await journey.started()
    [mail] = journey.mails_to("corr@ville-exemple.fr")
    assert "validate" in mail.subject and f"entity={entity_id}" in mail.body
    edit = await subscriptions.verify_email(ctx, entity_id, journey.token("corr@ville-exemple.fr"))
    described = await subscriptions.describe(ctx, entity_id, edit, journey_description())
    assert (described.status, described.kind, described.identifier.display()) == (
        "subscribed", "institutional", "SIRET 213 401 722 01787")

    invitation = journey.mails_to(REP.email)[-1]
    for title in ("Charte DINAMIS", "Pléiades", "SPOT 6/7"):
        assert title in invitation.body
    _, docs = await subscriptions.documents_to_accept(ctx, entity_id, journey.token(REP.email))
    assert [d.document_id for d in docs] == ["dinamis-charter", "licence-pleiades", "licence-spot-6-7"]
    accepted = await subscriptions.accept(ctx, entity_id, journey.token(REP.email), [d.ref for d in docs],
                                          "louise maire", Origin("203.0.113.7", "Firefox"))
    assert accepted.status == "awaiting-review" and accepted.eligible_missions == []
    assert [(a.document_id, a.version, a.sha256, a.origin) for a in accepted.acceptances] == [
        (d.document_id, d.version, d.sha256, "203.0.113.7 (Firefox)") for d in docs]

    approved = await subscriptions.review(ctx, entity_id, "dinamis", "approve", "", journey.admin)
    assert approved.status == "approved" and approved.eligible_missions == ["pleiades", "spot-6-7"]
    [facts] = ctx.certificates.issued
    assert (facts.serial, facts.entity_name, facts.approved_by) == (approved.certificate_serial, "Ville d'Exemple",
                                                                    "ada.admin")
    assert [a.sha256 for a in facts.acceptances] == [d.sha256 for d in docs]
    assert (await ctx.certificate_store.get(approved.certificate_serial)).entity_id == entity_id
    assert ctx.entities.types() == ["entity.subscribed.v1", "entity.licence-accepted.v1", "entity.approved.v1"]
    wire = ctx.entities.events[-1].data
    assert (wire["kind"], wire["eligible_missions"], wire["version"]) == ("institutional", ["pleiades", "spot-6-7"], 5)
    assert "corr@ville-exemple.fr" not in str([e.data for e in ctx.entities.events])  # no contact data on the wire
    assert "certificate" in journey.mails_to("corr@ville-exemple.fr")[-1].body


def journey_description(**changes):
    from accounts_service.domain.entity import Description

    base = {"name": "Ville d'Exemple", "category": "public-body", "country": "FR", "sector": "local authority",
            "legal_representative": REP, "identifier_scheme": "siret", "identifier": "213 401 722 01787"}
    return Description(**{**base, **changes})


async def test_a_validation_link_works_once_and_not_after_it_expires(ctx, journey, clock):
    entity_id = await journey.started()
    token = journey.token("corr@ville-exemple.fr")
    with pytest.raises(LinkInvalid, match="not valid"):
        await subscriptions.verify_email(ctx, entity_id, token[:-2] + "xx")
    await subscriptions.verify_email(ctx, entity_id, token)
    with pytest.raises(LinkInvalid, match="already used"):
        await subscriptions.verify_email(ctx, entity_id, token)

    late = await journey.started("late@ville-exemple.fr")
    clock.advance(hours=25)
    with pytest.raises(LinkInvalid, match="expired"):
        await subscriptions.verify_email(ctx, late, journey.token("late@ville-exemple.fr"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"identifier": "21340172201788"}, "SIRET '21340172201788' is not valid: The number's checksum"),
    ({"identifier": "1234"}, "not valid"),
    ({"identifier": ""}, "SIRET or SIREN is required"),
    ({"identifier_scheme": "rna", "identifier": "W751234567"}, "'rna' is not accepted for this category"),
    ({"country": "DE"}, "country must be FR"),
    ({"category": "private-public-contract"}, "contract reference"),
    ({"category": "foreign-scientific", "country": "US", "identifier": ""}, "names its French partner"),
    ({"category": "foreign-scientific", "country": "US", "partner_entity_id": "nope"}, "not an approved French"),
    ({"category": "european-lab", "country": "US", "identifier": ""}, "not a European Union or EEA country"),
    ({"category": "astrology"}, "unknown category"),
])
async def test_a_bad_description_says_what_is_wrong_and_changes_nothing(ctx, journey, changes, message):
    entity_id = await journey.started()
    edit = await subscriptions.verify_email(ctx, entity_id, journey.token("corr@ville-exemple.fr"))
    with pytest.raises((InvalidInput, Conflict), match=message):
        await subscriptions.describe(ctx, entity_id, edit, journey_description(**changes))
    stored = await ctx.entities.get(entity_id)
    assert (stored.status, stored.name, stored.version) == ("describing", "", 2)
    assert ctx.entities.events == [] and journey.mails_to(REP.email) == []


async def test_a_non_profit_gives_its_rna_and_a_second_subscription_of_one_organisation_is_refused(ctx, journey):
    await journey.described(category="non-profit", identifier_scheme="rna", identifier="W751234567")
    with pytest.raises(Conflict, match="RNA W751234567 is already subscribed"):
        await journey.described("other@ville-exemple.fr", category="non-profit", identifier_scheme="rna",
                                identifier="w751234567")


async def test_a_subscription_left_unaccepted_past_its_link_frees_the_identifier(ctx, journey, clock):
    first = await journey.described()
    clock.advance(days=3)
    with pytest.raises(Conflict, match="already subscribed or being subscribed"):
        await journey.described("again@ville-exemple.fr")
    clock.advance(days=12)  # the legal representative's link (14 days) has expired
    second = await journey.described("again@ville-exemple.fr")
    assert (await ctx.entities.get(first)).status == "abandoned"
    assert (await ctx.entities.get(second)).status == "subscribed"


async def test_the_legal_representative_accepts_the_current_versions_under_their_own_name_once(ctx, journey):
    entity_id = await journey.described()
    token = journey.token(REP.email)
    _, docs = await subscriptions.documents_to_accept(ctx, entity_id, token)
    refs = [d.ref for d in docs]
    stale = [(refs[0][0], "2019-01", refs[0][2]), *refs[1:]]
    with pytest.raises(Conflict, match=r"Charte DINAMIS.* is now version 2024-06"):
        await subscriptions.accept(ctx, entity_id, token, stale, REP.name, Origin("198.51.100.1", ""))
    with pytest.raises(InvalidInput, match="must be accepted"):
        await subscriptions.accept(ctx, entity_id, token, refs[:2], REP.name, Origin("198.51.100.1", ""))
    with pytest.raises(InvalidInput, match="under their own name"):
        await subscriptions.accept(ctx, entity_id, token, refs, "Camille Correspondante", Origin("198.51.100.1", ""))
    assert (await ctx.entities.get(entity_id)).acceptances == []  # nothing recorded half-way
    await subscriptions.accept(ctx, entity_id, token, refs, REP.name, Origin("198.51.100.1", ""))
    with pytest.raises(LinkInvalid, match="already used"):
        await subscriptions.accept(ctx, entity_id, token, refs, REP.name, Origin("198.51.100.1", ""))


async def test_only_an_administrator_reviews_and_only_after_the_acceptance(ctx, journey):
    entity_id = await journey.described()
    with pytest.raises(Conflict, match="has not accepted the documents yet"):
        await subscriptions.review(ctx, entity_id, "dinamis", "approve", "", journey.admin)
    await journey.accept_all(entity_id)
    member = Actor("kc-u", "u", entity_id, frozenset({"user", "correspondent"}))
    with pytest.raises(NotAllowed, match="only an administrator"):
        await subscriptions.review(ctx, entity_id, "dinamis", "approve", "", member)
    with pytest.raises(InvalidInput, match="states its reason"):
        await subscriptions.review(ctx, entity_id, "dinamis", "reject", " ", journey.admin)
    with pytest.raises(Conflict, match="needs no CNES review"):
        await subscriptions.review(ctx, entity_id, "cnes", "approve", "", journey.admin)
    rejected = await subscriptions.review(ctx, entity_id, "dinamis", "reject", "not a public body", journey.admin)
    assert rejected.status == "rejected" and ctx.certificates.issued == []
    assert "not a public body" in journey.mails_to("corr@ville-exemple.fr")[-1].body
    # a rejection frees the identifier: the organisation may subscribe again
    assert (await journey.described("again@ville-exemple.fr")) != entity_id


async def test_a_foreign_lab_needs_cnes_for_pleiades_and_airbus_for_spot(ctx, journey):
    partner = await journey.approved()
    lab = await journey.described("pi@lab.example.org", category="foreign-scientific", country="CA", identifier="",
                                  partner_entity_id=partner, name="Lab of Example",
                                  legal_representative=Person("Ann", "Dean", "dean@lab.example.org", "Dean"))
    await journey.accept_all(lab, Person("Ann", "Dean", "dean@lab.example.org", "Dean"))
    approved = await subscriptions.review(ctx, lab, "dinamis", "approve", "", journey.admin)
    assert approved.eligible_missions == []  # DINAMIS approved, the partners have not reviewed
    after_cnes = await subscriptions.review(ctx, lab, "cnes", "approve", "ISIS partner", journey.admin)
    assert after_cnes.eligible_missions == ["pleiades"]
    after_airbus = await subscriptions.review(ctx, lab, "airbus", "reject", "not in the SPOT programme", journey.admin)
    assert after_airbus.eligible_missions == ["pleiades"] and after_airbus.reviews["airbus"].decision == "reject"
    with pytest.raises(Conflict, match="AIRBUS already decided"):
        await subscriptions.review(ctx, lab, "airbus", "approve", "", journey.admin)
    assert ctx.entities.types()[-2:] == ["entity.approved.v1", "entity.eligibility-changed.v1"]


async def test_a_new_licence_version_pauses_eligibility_until_it_is_accepted(ctx, journey, clock):
    entity_id = await journey.approved()
    clock.advance(days=30)
    doc = await documents.publish(ctx, "licence-pleiades", "2026-03", "Licence Pléiades", "Version 2026.",
                                  journey.admin)
    await subscriptions.document_published(ctx, entity_id, doc, "event-1")
    await subscriptions.document_published(ctx, entity_id, doc, "event-1")  # redelivered: one effect
    paused = await ctx.entities.get(entity_id)
    assert paused.eligible_missions == ["spot-6-7"]
    assert ctx.entities.types()[-1] == "entity.eligibility-changed.v1" and len(journey.mails_to(REP.email)) == 2
    assert "2026-03" in journey.mails_to(REP.email)[-1].body
    await journey.accept_all(entity_id)
    assert (await ctx.entities.get(entity_id)).eligible_missions == ["pleiades", "spot-6-7"]
    assert ctx.entities.types()[-1] == "entity.licence-accepted.v1"


async def test_only_an_administrator_publishes_a_new_version_and_never_the_same_twice(ctx, journey):
    member = Actor("kc-u", "u", "ent", frozenset({"correspondent"}))
    with pytest.raises(NotAllowed):
        await documents.publish(ctx, "licence-pleiades", "2026-03", "t", "x", member)
    with pytest.raises(Conflict, match="exists already"):
        await documents.publish(ctx, "licence-pleiades", "2024-06", "t", "x", journey.admin)
    with pytest.raises(InvalidInput, match="unknown document"):
        await documents.publish(ctx, "terms", "1", "t", "x", journey.admin)


async def test_an_entity_is_visible_to_its_members_and_administrators_only(ctx, journey):
    entity_id = await journey.approved()
    outsider = Actor("kc-x", "x", "another-entity", frozenset({"user", "correspondent"}))
    with pytest.raises(NotAllowed, match="your own entity"):
        await subscriptions.visible_entity(ctx, entity_id, outsider)
    with pytest.raises(NotAllowed):
        await subscriptions.certificate(ctx, entity_id, outsider)
    member = Actor("kc-m", "m", entity_id, frozenset({"user"}))
    assert (await subscriptions.certificate(ctx, entity_id, member)).pdf.startswith(b"%PDF")
    suspended = await subscriptions.suspend(ctx, entity_id, "charter breached", journey.admin)
    assert suspended.eligible_missions == [] and ctx.entities.types()[-1] == "entity.suspended.v1"
