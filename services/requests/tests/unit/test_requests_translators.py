"""What the requests service publishes is read from each domain event alone: a submission with
what was asked, each status change with the cell and the order as they were at that step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dinamis_contracts import requests as contract
from requests_service.adapters.translators import outgoing
from requests_service.domain.model import Request, Requester

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def test_the_submission_and_each_step_are_published_as_they_happened():
    r = Request.submit(id="r1", title="Dunes", mission="pleiades", aoi=AOI, area_km2=89.5,
                       requester=Requester("alice", "ent-1", "scientific"), at=T0)
    r.review_opened("pleiades-science", T0 + timedelta(seconds=1))
    r.decided("accepted", "within quota", 89.5, "pleiades-science", T0 + timedelta(seconds=2))
    r.ordered("ord-1", T0 + timedelta(seconds=3))
    submitted, *moves = outgoing(r.events)
    assert {o.topic for o in (submitted, *moves)} == {contract.TOPIC}
    assert {o.event.subject for o in (submitted, *moves)} == {"r1"}
    assert submitted.event.type == contract.REQUEST_SUBMITTED
    assert contract.RequestSubmittedV1.model_validate(submitted.event.data) == contract.RequestSubmittedV1(
        request_id="r1", title="Dunes", mission="pleiades", aoi=AOI, area_km2=89.5, submitted_at=T0,
        requester=contract.Requester(user_id="alice", entity_id="ent-1", entity_category="scientific"))
    changes = [contract.RequestStatusChangedV1.model_validate(o.event.data) for o in moves]
    assert [(c.previous_status, c.status, c.cell, c.order_id, c.changed_at) for c in changes] == [
        ("submitted", "in_review", "pleiades-science", None, T0 + timedelta(seconds=1)),
        ("in_review", "accepted", "pleiades-science", None, T0 + timedelta(seconds=2)),
        ("accepted", "ordered", "pleiades-science", "ord-1", T0 + timedelta(seconds=3))]


def test_an_answer_and_a_cancellation_are_published_with_who_did_them():
    r = Request.submit(id="r1", title="Dunes", mission="pleiades", aoi=AOI, area_km2=89.5,
                       requester=Requester("alice", "ent-1", "scientific"), at=T0)
    r.review_opened("pleiades-science", T0 + timedelta(seconds=1))
    r.decided("information-requested", "which season?", 0.0, "pleiades-science", T0 + timedelta(seconds=2))
    r.events.clear()
    r.provide_information("summer", "alice", T0 + timedelta(seconds=3))
    r.cancel("funding withdrawn", "alice", T0 + timedelta(seconds=4))
    out = outgoing(r.events)
    assert [o.event.type for o in out] == [contract.INFORMATION_PROVIDED, contract.REQUEST_STATUS_CHANGED,
                                           contract.REQUEST_CANCELLED, contract.REQUEST_STATUS_CHANGED]
    assert contract.InformationProvidedV1.model_validate(out[0].event.data) == contract.InformationProvidedV1(
        request_id="r1", answer="summer", provided_by="alice", provided_at=T0 + timedelta(seconds=3))
    assert contract.RequestCancelledV1.model_validate(out[2].event.data) == contract.RequestCancelledV1(
        request_id="r1", reason="funding withdrawn", cancelled_by="alice", cancelled_at=T0 + timedelta(seconds=4))
    moves = [contract.RequestStatusChangedV1.model_validate(o.event.data) for o in (out[1], out[3])]
    assert [(m.previous_status, m.status) for m in moves] == [("information_requested", "in_review"),
                                                              ("in_review", "cancelled")]
