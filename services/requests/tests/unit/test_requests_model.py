"""A request's life: its status only moves forward (but for the cell's questions and the requester's
answers), never out of cancelled; its history keeps every step and who made it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from requests_service.domain.errors import IllegalTransition
from requests_service.domain.model import (
    InformationProvided,
    Request,
    RequestCancelled,
    Requester,
    RequestSubmitted,
    StatusChanged,
)
from requests_service.domain.spec import RequestSpec, Tasking

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def new_request(tasking: Tasking | None = None) -> Request:
    spec = RequestSpec(kind="tasking" if tasking else "archive", title="Dunes", mission="pleiades",
                       justification="coastal erosion", aoi={}, area_km2=12.0, tasking=tasking)
    return Request.submit(id="r1", spec=spec, requester=Requester("alice", "ent-1", "scientific"), at=T0)


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


# -- the review loop, cancellation and who must act (issue 10) ---------------------------------
def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def in_review() -> Request:
    r = new_request()
    r.review_opened("pleiades-science", at(1))
    return r


def test_the_cell_and_the_requester_can_go_round_the_information_loop_again_and_again():
    r = in_review()
    for round_ in range(3):
        r.decided("information-requested", f"question {round_}", 0.0, "pleiades-science", at(10 * round_ + 2),
                  decided_by="arbiter-1")
        assert (r.status, r.who_must_act) == ("information_requested", "requester")
        assert r.history[-1].note == f"information-requested: question {round_}"
        assert r.history[-1].by == "arbiter-1"
        assert r.provide_information(f"answer {round_}", "alice", at(10 * round_ + 5))
        assert (r.status, r.who_must_act) == ("in_review", "cell")
        assert (r.history[-1].note, r.history[-1].by) == (f"answer: answer {round_}", "alice")
    r.decided("accepted-partially", "half the area", 6.0, "pleiades-science", at(40), decided_by="arbiter-1")
    assert (r.status, r.accepted_area_km2, r.who_must_act) == ("partially_accepted", 6.0, "operator")
    moves = [(e.previous, e.status) for e in r.events if isinstance(e, StatusChanged)]
    assert moves == [("submitted", "in_review")] + [("in_review", "information_requested"),
                                                    ("information_requested", "in_review")] * 3 + [
        ("in_review", "partially_accepted")]
    answers = [e for e in r.events if isinstance(e, InformationProvided)]
    assert [(e.answer, e.provided_by) for e in answers] == [(f"answer {i}", "alice") for i in range(3)]


def test_information_is_refused_unless_the_cell_is_asking_for_it():
    r = in_review()
    with pytest.raises(IllegalTransition, match="the request is in review: information can be provided only"):
        r.provide_information("here you are", "alice", at(2))
    r.decided("rejected", "outside the programme", 0.0, "pleiades-science", at(3))
    with pytest.raises(IllegalTransition, match="the request is rejected"):
        r.provide_information("but", "alice", at(4))


def test_the_same_answer_given_twice_changes_nothing_the_second_time():
    r = in_review()
    r.decided("information-requested", "which season?", 0.0, "pleiades-science", at(2))
    assert r.provide_information("summer", "alice", at(3))
    r.events.clear()
    assert not r.provide_information("summer", "alice", at(4))
    assert r.events == [] and r.status == "in_review" and len(r.history) == 4
    with pytest.raises(IllegalTransition):  # another answer is not a repetition
        r.provide_information("winter", "alice", at(5))


def test_a_late_opening_or_a_redelivered_step_of_another_topic_never_moves_the_request_back():
    r = in_review()
    r.decided("information-requested", "which season?", 0.0, "pleiades-science", at(3))
    r.review_opened("pleiades-science", at(1))  # the case opening, delivered again
    assert r.status == "information_requested"
    r.provide_information("summer", "alice", at(4))
    r.decided("accepted", "ok", 12.0, "pleiades-science", at(6))
    r.ordered("ord-1", at(8))
    r.decided("information-requested", "late question", 0.0, "pleiades-science", at(5))
    r.decided("rejected", "second thoughts", 0.0, "pleiades-science", at(7))
    r.review_opened("pleiades-science", at(2))
    assert (r.status, r.who_must_act, r.order_id) == ("ordered", "airbus", "ord-1")
    assert [h.at for h in r.history] == sorted(h.at for h in r.history)  # late steps placed at their time
    assert [e.status for e in r.events if isinstance(e, StatusChanged)][-1] == "ordered"


def test_a_cancelled_request_stays_cancelled_whatever_arrives_after():
    r = in_review()
    assert r.cancel("no longer needed", "alice", at(2))
    assert (r.status, r.who_must_act) == ("cancelled", None)
    assert (r.history[-1].note, r.history[-1].by) == ("cancelled: no longer needed", "alice")
    cancelled = [e for e in r.events if isinstance(e, RequestCancelled)]
    assert cancelled == [RequestCancelled("r1", "no longer needed", "alice", at(2))]
    r.events.clear()
    r.decided("accepted", "within quota", 12.0, "pleiades-science", at(3), decided_by="rule:archive-in-quota")
    r.ordered("ord-9", at(4))
    r.decided("information-requested", "why?", 0.0, "pleiades-science", at(5))
    assert (r.status, r.who_must_act) == ("cancelled", None)
    assert r.events == []  # no status change announced
    order = next(h for h in r.history if h.status == "ordered")  # the platform can see it and undo it
    assert order.note == "order ord-9 recorded (after the cancellation: the request stays cancelled)"
    assert r.order_id == "ord-9" and r.accepted_area_km2 is None
    assert not r.cancel("again", "alice", at(6))  # a second cancellation changes nothing


def test_an_ordered_or_rejected_request_cannot_be_cancelled():
    ordered = in_review()
    ordered.decided("accepted", "", 12.0, "pleiades-science", at(2))
    ordered.ordered("ord-1", at(3))
    with pytest.raises(IllegalTransition, match="already ordered: it can no longer be cancelled"):
        ordered.cancel("too late", "alice", at(4))
    rejected = in_review()
    rejected.decided("rejected", "no", 0.0, "pleiades-science", at(2))
    with pytest.raises(IllegalTransition, match="already rejected"):
        rejected.cancel("anyway", "alice", at(3))


@pytest.mark.parametrize("steps, status, who", [
    ([], "submitted", "cell"),
    ([("open",)], "in_review", "cell"),
    ([("open",), ("decide", "information-requested")], "information_requested", "requester"),
    ([("open",), ("decide", "accepted")], "accepted", "operator"),
    ([("open",), ("decide", "accepted-partially")], "partially_accepted", "operator"),
    ([("open",), ("decide", "rejected")], "rejected", None),
    ([("open",), ("decide", "accepted"), ("order",)], "ordered", "airbus"),
    ([("open",), ("cancel",)], "cancelled", None),
])
def test_who_must_act_follows_the_status(steps, status, who):
    r = new_request()
    for i, step in enumerate(steps, start=1):
        if step[0] == "open":
            r.review_opened("institutional", at(i))
        elif step[0] == "decide":
            r.decided(step[1], "because", 10.0, "institutional", at(i))
        elif step[0] == "order":
            r.ordered("ord-1", at(i))
        else:
            r.cancel("changed my mind", "alice", at(i))
    assert (r.status, r.who_must_act) == (status, who)


def test_each_step_says_who_made_it():
    r = in_review()
    r.decided("accepted", "", 12.0, "pleiades-science", at(2), decided_by="rule:archive-in-quota")
    r.ordered("ord-1", at(3))
    assert [h.by for h in r.history] == ["alice", "arbitration", "rule:archive-in-quota", "provisioning"]


# -- cancelling a tasking (issue 10) ---------------------------------------------------------------
WINDOW = Tasking(window_start=T0 + timedelta(days=10), window_end=T0 + timedelta(days=20), max_cloud_cover=20,
                 max_incidence_angle=30)


def test_a_tasking_can_be_cancelled_until_the_configured_hours_before_its_window():
    r = new_request(WINDOW)
    assert r.cancel("plans changed", "alice", WINDOW.window_start - timedelta(hours=48), 48)
    assert r.status == "cancelled"


def test_a_tasking_too_close_to_its_window_cannot_be_cancelled_and_the_message_says_until_when():
    r = new_request(WINDOW)
    with pytest.raises(IllegalTransition) as refused:
        r.cancel("plans changed", "alice", WINDOW.window_start - timedelta(hours=47), 48)
    assert str(refused.value) == ("a tasking request can be cancelled only until 48 h before its window starts, "
                                  "i.e. until 2026-03-09T09:00+00:00: it is too late to cancel it")
    assert r.status == "submitted" and [type(e) for e in r.events] == [RequestSubmitted]


def test_an_archive_request_has_no_window_deadline():
    r = new_request()
    assert r.cancel("plans changed", "alice", T0 + timedelta(days=400), 48)


# -- expiry (issue 10) ---------------------------------------------------------------------------------
def test_a_tasking_whose_window_ended_before_it_was_ordered_expires_and_stays_expired():
    r = new_request(WINDOW)
    r.review_opened("pleiades-science", at(1))
    r.decided("accepted", "fits", 12.0, "pleiades-science", at(2))
    assert not r.expire(WINDOW.window_end - timedelta(seconds=1))  # not yet
    assert r.expire(WINDOW.window_end + timedelta(minutes=5))
    assert (r.status, r.who_must_act, r.history[-1].by) == ("expired", None, "requests")
    assert r.history[-1].note == "expired: its acquisition window ended on 2026-03-21T09:00+00:00 before it was ordered"
    changed = [e for e in r.events if isinstance(e, StatusChanged)][-1]
    assert (changed.previous, changed.status) == ("accepted", "expired")
    r.events.clear()
    r.ordered("ord-late", at(3) + timedelta(days=30))  # an order arriving after the expiry moves nothing
    assert r.status == "expired" and r.events == []
    assert not r.expire(WINDOW.window_end + timedelta(days=1))  # expiring again changes nothing
    with pytest.raises(IllegalTransition, match="already expired: there is nothing left to cancel"):
        r.cancel("too late", "alice", at(4))


def test_an_ordered_tasking_or_an_archive_request_never_expires():
    ordered = new_request(WINDOW)
    ordered.decided("accepted", "", 12.0, "pleiades-science", at(1))
    ordered.ordered("ord-1", at(2))
    assert not ordered.expire(WINDOW.window_end + timedelta(days=1)) and ordered.status == "ordered"
    archive = new_request()
    assert archive.expires_at is None and not archive.expire(T0 + timedelta(days=4000))


def _ordered_tasking() -> Request:
    r = new_request()
    r.review_opened("pleiades-science", T0 + timedelta(seconds=1))
    r.decided("accepted", "", 12.0, "pleiades-science", T0 + timedelta(seconds=2))
    r.placed("ord-1", "ORD-9", T0 + timedelta(seconds=3))
    return r


def test_a_tasking_is_acquired_in_attempts_then_delivered_and_closed_with_its_catalogue_item():
    r = _ordered_tasking()
    r.acquisition(2, "acquired", 100.0, T0 + timedelta(days=3))
    r.acquisition(1, "cloudy", 60.0, T0 + timedelta(days=2))  # reported late: the coverage stays 100
    assert (r.status, r.coverage_percent, r.who_must_act) == ("acquiring", 100.0, "airbus")
    r.delivered("pleiades", "PHR-1", 11.5, T0 + timedelta(days=4))
    assert (r.status, r.delivered_item, r.who_must_act) == ("closed", "pleiades/PHR-1", None)
    assert [h.status for h in r.history] == ["submitted", "in_review", "accepted", "ordered", "acquiring",
                                             "acquiring", "delivered", "closed"]
    r.placed("ord-1", "ORD-9", T0 + timedelta(days=5))  # a late or repeated placement: nothing more
    assert [h.status for h in r.history].count("ordered") == 1
    assert "placed with Airbus as ORD-9" in r.history[3].note
    assert "attempt 1: cloudy, 60 %" in r.history[4].note and "11.5 km² delivered: item PHR-1" in r.history[6].note
    assert [e.status for e in r.events if isinstance(e, StatusChanged)][-3:] == ["acquiring", "delivered", "closed"]


def test_a_failed_order_ends_the_request_and_a_late_delivery_does_not_revive_it():
    r = _ordered_tasking()
    r.order_failed("Airbus refused the feasibility: window too short", T0 + timedelta(days=1))
    r.delivered("pleiades", "PHR-1", 11.5, T0 + timedelta(days=4))
    assert (r.status, r.delivered_item) == ("failed", None)
    assert [h.note for h in r.history if h.status == "failed"] == [
        "the order failed: Airbus refused the feasibility: window too short"]
    assert all("the request stays failed" in h.note for h in r.history if h.status in ("delivered", "closed"))


def test_a_recorded_then_placed_order_is_ordered_once_in_the_history():
    r = new_request()
    r.decided("accepted", "", 12.0, "institutional", T0 + timedelta(seconds=2))
    r.ordered("ord-1", T0 + timedelta(seconds=3))
    r.placed("ord-1", "ORD-9", T0 + timedelta(seconds=4))
    assert [h.status for h in r.history] == ["submitted", "accepted", "ordered"]


def test_an_order_cancelled_by_the_operators_cancels_the_request_with_their_reason():
    r = _ordered_tasking()
    r.order_cancelled("duplicate of an existing acquisition", T0 + timedelta(days=1))
    assert r.status == "cancelled" and r.who_must_act is None
    assert r.history[-1].note == "the order was cancelled by the supply operators: duplicate of an existing acquisition"
