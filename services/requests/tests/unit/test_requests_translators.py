"""What the requests service publishes is read from each domain event alone: a submission with
what was asked, each status change with the cell and the order as they were at that step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dinamis_contracts import requests as contract
from requests_service.adapters.translators import outgoing
from requests_service.domain.model import Request, Requester
from requests_service.domain.quote import DeliveredOffer, JoinOffer, Offers, Quote
from requests_service.domain.spec import RequestSpec, Scene, Tasking

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


SPEC = RequestSpec(kind="archive", title="Dunes", mission="pleiades", justification="", aoi=AOI, area_km2=89.5)


def test_the_submission_and_each_step_are_published_as_they_happened():
    r = Request.submit(id="r1", spec=SPEC, requester=Requester("alice", "ent-1", "scientific"), at=T0)
    r.review_opened("pleiades-science", T0 + timedelta(seconds=1))
    r.decided("accepted", "within quota", 89.5, "pleiades-science", T0 + timedelta(seconds=2))
    r.ordered("ord-1", T0 + timedelta(seconds=3))
    submitted, *moves = outgoing(r.events)
    assert {o.topic for o in (submitted, *moves)} == {contract.TOPIC}
    assert {o.event.subject for o in (submitted, *moves)} == {"r1"}
    assert submitted.event.type == contract.REQUEST_SUBMITTED
    assert contract.RequestSubmittedV1.model_validate(submitted.event.data) == contract.RequestSubmittedV1(
        request_id="r1", title="Dunes", mission="pleiades", aoi=AOI, area_km2=89.5, submitted_at=T0, kind="archive",
        requester=contract.Requester(user_id="alice", entity_id="ent-1", entity_category="scientific"))
    changes = [contract.RequestStatusChangedV1.model_validate(o.event.data) for o in moves]
    assert [(c.previous_status, c.status, c.cell, c.order_id, c.changed_at) for c in changes] == [
        ("submitted", "in_review", "pleiades-science", None, T0 + timedelta(seconds=1)),
        ("in_review", "accepted", "pleiades-science", None, T0 + timedelta(seconds=2)),
        ("accepted", "ordered", "pleiades-science", "ord-1", T0 + timedelta(seconds=3))]


def test_an_answer_and_a_cancellation_are_published_with_who_did_them():
    r = Request.submit(id="r1", spec=SPEC, requester=Requester("alice", "ent-1", "scientific"), at=T0)
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


def test_the_submission_carries_what_is_asked_and_the_frozen_quote_with_its_offers():
    tasking = Tasking(window_start=T0 + timedelta(days=3), window_end=T0 + timedelta(days=13), max_cloud_cover=15,
                      max_incidence_angle=25, mode="stereo", priority="urgent")
    spec = RequestSpec(kind="tasking", title="Flood", mission="spot-6-7", justification="flood mapping",
                       funding_reference="ANR-22-0001", aoi=AOI, area_km2=89.5, tasking=tasking)
    quote = Quote(area_km2=89.5, free_km2=50, over_quota_km2=39.5, billed_km2=100, price_eur=Decimal("50.10"),
                  payer="project-budget", basis="SPOT 6/7 on a project budget", invoicing_minimum_km2=100,
                  cell="spot-science", period="2026", quoted_at=T0, valid_until=T0 + timedelta(hours=72),
                  offers=Offers(delivered=(DeliveredOffer("spot-1", "spot-6-7", T0 - timedelta(days=9), 0.4, 3.0,
                                                          12.0),),
                                join=(JoinOffer("r0", 20.5, T0, T0 + timedelta(days=9), "mono"),)))
    r = Request.submit(id="r2", spec=spec, quote=quote, requester=Requester("alice", "ent-1", "scientific"), at=T0)
    wire = contract.RequestSubmittedV1.model_validate(outgoing(r.events)[0].event.data)
    assert (wire.kind, wire.justification, wire.funding_reference, wire.priority) == (
        "tasking", "flood mapping", "ANR-22-0001", "urgent")
    assert wire.tasking == contract.TaskingV1(window_start=tasking.window_start, window_end=tasking.window_end,
                                              max_cloud_cover=15, max_incidence_angle=25, mode="stereo",
                                              priority="urgent")
    assert wire.quote is not None and wire.quote.price_eur == "50.10" and wire.quote.payer == "project-budget"
    assert [o.item_id for o in wire.quote.delivered_offers] == ["spot-1"]
    assert [(o.request_id, o.overlap_km2) for o in wire.quote.join_offers] == [("r0", 20.5)]

    archive = RequestSpec(kind="archive", title="Dunes", mission="pleiades", justification="dunes", aoi=AOI,
                          area_km2=9.0, scenes=(Scene("airbus-1", AOI, 9.0, T0, "pleiades-1a"),))
    r = Request.submit(id="r3", spec=archive, requester=Requester("alice", "ent-1", "scientific"), at=T0)
    wire = contract.RequestSubmittedV1.model_validate(outgoing(r.events)[0].event.data)
    assert wire.scenes == [contract.SceneV1(item_id="airbus-1", aoi=AOI, area_km2=9.0, acquired_at=T0)]
    assert (wire.kind, wire.tasking, wire.quote) == ("archive", None, None)
