"""Who reads which request: a requester their entity's, an arbiter their cells', operators and
admins all; and what GET /api/requests lists for each."""

from __future__ import annotations

import pytest
from requests_service.domain.access import Actor, Listing, listing_for, may_read
from requests_service.domain.errors import NotAllowed

ALICE = Actor("alice", "ent-1", frozenset({"user"}))
BOB_SAME_LAB = Actor("bob", "ent-1", frozenset({"user"}))
EVE_OTHER_LAB = Actor("eve", "ent-2", frozenset({"user"}))
NOBODY = Actor("nina", None, frozenset({"user"}))
ARBITER = Actor("carol", None, frozenset({"arbiter"}), frozenset({"pleiades-science"}))
OPERATOR = Actor("oscar", None, frozenset({"operator"}))
ADMIN = Actor("ada", None, frozenset({"admin"}))


@pytest.mark.parametrize(("actor", "cell", "sees"), [
    (ALICE, None, True),  # their own
    (BOB_SAME_LAB, None, True),  # a colleague of the same entity
    (EVE_OTHER_LAB, None, False),
    (NOBODY, None, False),
    (ARBITER, "pleiades-science", True),
    (ARBITER, "spot-science", False),  # another cell's
    (ARBITER, None, False),  # not routed to a cell yet
    (Actor("carl", None, frozenset({"user"}), frozenset({"pleiades-science"})), "pleiades-science", False),  # no role
    (OPERATOR, "spot-science", True),
    (ADMIN, None, True),
])
def test_who_reads_a_request_of_alice_at_ent_1(actor, cell, sees):
    assert may_read(actor, "alice", "ent-1", cell) is sees


def test_a_person_without_an_entity_still_reads_their_own_requests():
    assert may_read(NOBODY, "nina", None, None)
    assert not may_read(NOBODY, "alice", None, None)  # two people without an entity share nothing


def test_what_each_one_lists():
    assert listing_for(ALICE, None) == Listing(entity_id="ent-1")
    assert listing_for(NOBODY, None) == Listing(owner_id="nina")
    assert listing_for(ARBITER, None) == Listing(cells=("pleiades-science",))
    assert listing_for(ARBITER, "pleiades-science") == Listing(cells=("pleiades-science",))
    assert listing_for(OPERATOR, None) == Listing(everything=True)
    assert listing_for(ADMIN, "institutional") == Listing(cells=("institutional",))


def test_listing_another_cell_or_by_cell_without_a_staff_role_is_refused_with_the_reason():
    with pytest.raises(NotAllowed, match="you arbitrate for pleiades-science, not institutional"):
        listing_for(ARBITER, "institutional")
    with pytest.raises(NotAllowed, match="only arbiters, operators and admins list requests by cell"):
        listing_for(ALICE, "pleiades-science")
