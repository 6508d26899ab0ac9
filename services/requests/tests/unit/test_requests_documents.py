"""A request as stored: everything issue 10 added comes back as it was (the frozen quote's money
exactly), and a document stored before issue 10 still loads, as a tasking request without them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from requests_service.adapters.repository import from_document, to_document
from requests_service.domain.model import Request, Requester
from requests_service.domain.quote import DeliveredOffer, JoinOffer, Offers, Quote
from requests_service.domain.spec import RequestSpec, Scene, Tasking

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def test_what_is_asked_and_the_frozen_quote_come_back_as_stored():
    quote = Quote(area_km2=9, free_km2=0, over_quota_km2=9, billed_km2=25, price_eur=Decimal("101.50"),
                  payer="entity", basis="Pléiades archive: 4.06 EUR/km²", invoicing_minimum_km2=25,
                  cell="institutional", period="2026-Q1", quoted_at=T0, valid_until=T0 + timedelta(hours=72),
                  offers=Offers((DeliveredOffer("pl-9", "pleiades", T0, 0.5, 3.0, None),),
                                (JoinOffer("r0", 2.5, T0, T0 + timedelta(days=9), "stereo"),)))
    for spec in (
        RequestSpec(kind="archive", title="Dunes", mission="pleiades", justification="why", aoi=AOI, area_km2=9,
                    funding_reference="ANR-1", scenes=(Scene("pl-1", AOI, 9, T0, "pleiades-1a"),)),
        RequestSpec(kind="tasking", title="Lakes", mission="spot-6-7", justification="why", aoi=AOI, area_km2=89,
                    tasking=Tasking(T0, T0 + timedelta(days=9), 20, 30, "tristereo", "high")),
    ):
        r = Request.submit(id="r1", spec=spec, quote=quote, requester=Requester("alice", "ent-1", "scientific"),
                           at=T0)
        doc = to_document(r)
        assert isinstance(doc["scenes"][0]["aoi"], str) if spec.scenes else doc["tasking"]["mode"] == "tristereo"
        assert doc["quote"]["price_eur"] == "101.50" and doc["entity_id"] == "ent-1"  # no Decimal128 for FerretDB
        back = from_document(doc)
        assert (back.kind, back.scenes, back.tasking, back.priority, back.funding_reference, back.quote) == (
            spec.kind, spec.scenes, spec.tasking, spec.priority, spec.funding_reference, quote)


def test_a_document_stored_before_issue_10_loads_as_a_tasking_without_window_or_quote():
    legacy = {"_id": "old-1", "title": "Dunes", "mission": "pleiades", "aoi": '{"type":"Polygon","coordinates":[]}',
              "area_km2": 89.5, "requester": {"user_id": "alice", "entity_id": "ent-1",
                                              "entity_category": "scientific"},
              "submitted_at": T0, "status": "in_review", "cell": "pleiades-science", "history": [], "version": 3}
    r = from_document(legacy)
    assert (r.kind, r.justification, r.scenes, r.tasking, r.priority, r.quote) == ("tasking", "", (), None,
                                                                                    "standard", None)
    assert r.status == "in_review" and r.cancel("no longer needed", "alice", T0, 48)  # no window: no deadline
