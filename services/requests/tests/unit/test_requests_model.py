"""A request's life: its status only moves forward, its history keeps every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from requests_service.domain.model import Request, Requester, RequestSubmitted, StatusChanged

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def new_request() -> Request:
    return Request.submit(id="r1", title="Dunes", mission="pleiades", aoi={}, area_km2=12.0,
                          requester=Requester("alice", "ent-1", "scientific"), at=T0)


def test_a_submitted_request_says_so_and_announces_itself():
    r = new_request()
    assert r.status == "submitted"
    assert [type(e) for e in r.events] == [RequestSubmitted]


def test_the_normal_circuit_ends_ordered_with_every_step_in_the_history():
    r = new_request()
    r.review_opened("pleiades-science", T0 + timedelta(seconds=1))
    r.decided("accepted", "within quota", 12.0, "pleiades-science", T0 + timedelta(seconds=2))
    r.ordered("ord-1", T0 + timedelta(seconds=3))
    assert (r.status, r.cell, r.order_id, r.accepted_area_km2) == ("ordered", "pleiades-science", "ord-1", 12.0)
    assert [h.status for h in r.history] == ["submitted", "in_review", "accepted", "ordered"]
    assert [(e.previous, e.status) for e in r.events if isinstance(e, StatusChanged)] == [
        ("submitted", "in_review"), ("in_review", "accepted"), ("accepted", "ordered")]


def test_an_order_overtaking_the_decision_does_not_move_the_status_back():
    r = new_request()
    r.ordered("ord-1", T0 + timedelta(seconds=3))
    r.decided("accepted", "", 12.0, "institutional", T0 + timedelta(seconds=2))
    r.review_opened("institutional", T0 + timedelta(seconds=1))
    assert r.status == "ordered"
    assert [h.status for h in r.history] == ["submitted", "in_review", "accepted", "ordered"]


def test_a_rejection_is_recorded_with_its_reason():
    r = new_request()
    r.decided("rejected", "outside the programme", 0.0, "institutional", T0 + timedelta(seconds=1))
    assert r.status == "rejected"
    assert r.history[-1].note == "rejected: outside the programme"
    assert r.accepted_area_km2 is None


def test_only_the_requester_and_staff_may_see_a_request():
    r = new_request()
    assert r.visible_to("alice", frozenset({"user"}))
    assert not r.visible_to("bob", frozenset({"user", "correspondent"}))
    assert all(r.visible_to("staff", frozenset({role})) for role in ("arbiter", "operator", "admin"))
