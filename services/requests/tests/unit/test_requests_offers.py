"""Overlap offers on fakes: coverage and overlap in geodesic km², ranking, the constraints, the grid
the pending-tasking index is stored on, and find_offers asking both sources at once."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from requests_service.adapters.delivered import search_body
from requests_service.adapters.tasking_index import query_keys, stored_keys, tiles_at
from requests_service.domain import offers
from requests_service.domain.quote import Offers
from requests_service.domain.rules import IntakeRules
from requests_service.domain.spec import RequestSpec, Scene, Tasking
from requests_service.service_layer.context import Requests
from requests_service.service_layer.offers import find_offers, status_changed
from requests_service.service_layer.ports import PendingTasking
from shapely.geometry import shape

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def square(lon: float, lat: float, km: float) -> dict:
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat],
                                                [lon, lat + dlat], [lon, lat]]]}


def item(item_id: str, geometry: dict, when: datetime, cloud: float = 5.0, incidence: float = 10.0,
         collection: str = "pleiades") -> dict:
    return {"id": item_id, "collection": collection, "geometry": geometry,
            "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), "eo:cloud_cover": cloud,
                           "view:incidence_angle": incidence}}


def tasking_spec(aoi: dict, start: datetime = NOW + timedelta(days=10), days: int = 30, cloud: float = 20,
                 incidence: float = 30, mission: str = "pleiades") -> RequestSpec:
    return RequestSpec(kind="tasking", title="t", mission=mission, justification="j", aoi=aoi,
                       area_km2=offers.area_km2(shape(aoi)),
                       tasking=Tasking(start, start + timedelta(days=days), cloud, incidence))


def test_area_is_geodesic_at_any_latitude():
    assert offers.area_km2(shape(square(2.0, 45.0, 10))) == pytest.approx(100, rel=0.01)
    assert offers.area_km2(shape(square(2.0, 65.0, 10))) == pytest.approx(100, rel=0.01)


def test_coverage_is_the_share_of_the_requested_area_the_footprint_covers():
    aoi = square(2.0, 45.0, 10)
    geom = shape(aoi)
    total = offers.area_km2(geom)
    assert offers.coverage(geom, total, shape(square(1.9, 44.9, 30))) == pytest.approx(1.0)
    half = square(2.0 + (10 / (111.32 * math.cos(math.radians(45)))) / 2, 44.9, 30)
    assert offers.coverage(geom, total, shape(half)) == pytest.approx(0.5, abs=0.02)
    assert offers.coverage(geom, total, shape(square(3.0, 45.0, 10))) == 0.0


def test_delivered_offers_rank_by_coverage_then_recency_and_respect_the_constraints():
    aoi = square(2.0, 45.0, 10)
    dlon = 10 / (111.32 * math.cos(math.radians(45)))
    old_full = item("old-full", square(1.9, 44.9, 30), NOW - timedelta(days=300))
    new_full = item("new-full", square(1.9, 44.9, 30), NOW - timedelta(days=10))
    half = item("half", square(2.0 + dlon / 2, 44.9, 30), NOW - timedelta(days=1))
    cloudy = item("cloudy", square(1.9, 44.9, 30), NOW, cloud=60)
    steep = item("steep", square(1.9, 44.9, 30), NOW, incidence=45)
    too_old = item("too-old", square(1.9, 44.9, 30), NOW - timedelta(days=800))
    elsewhere = item("elsewhere", square(5.0, 45.0, 10), NOW)
    found = offers.delivered_offers(aoi, [old_full, half, cloudy, steep, too_old, elsewhere, new_full], 10,
                                    start=NOW - timedelta(days=365), end=NOW + timedelta(days=1),
                                    max_cloud_cover=20, max_incidence_angle=30)
    assert [o.item_id for o in found] == ["new-full", "old-full", "half"]
    assert found[0].coverage == 1.0 and found[2].coverage == pytest.approx(0.5, abs=0.02)
    assert found[0].cloud_cover == 5.0 and found[0].collection == "pleiades"
    assert len(offers.delivered_offers(aoi, [old_full, new_full, half], 2)) == 2


def _pending(rid: str, aoi: dict, start: datetime, days: int = 20, mode: str = "mono") -> PendingTasking:
    return PendingTasking(rid, "pleiades", mode, aoi, start, start + timedelta(days=days))


def test_join_offers_overlap_in_space_and_time_largest_first_never_the_request_itself():
    aoi = square(2.0, 45.0, 10)
    start, end = NOW + timedelta(days=10), NOW + timedelta(days=40)
    dlon = 10 / (111.32 * math.cos(math.radians(45)))
    pending = [
        _pending("same", aoi, start),  # 100 km² shared
        _pending("half", square(2.0 + dlon / 2, 45.0, 10), start + timedelta(days=5)),
        _pending("later", aoi, end + timedelta(days=1)),  # no time overlap
        _pending("elsewhere", square(4.0, 45.0, 10), start),
        _pending("itself", aoi, start),
    ]
    found = offers.join_offers(aoi, start, end, pending, 10, exclude="itself")
    assert [o.request_id for o in found] == ["same", "half"]
    assert found[0].overlap_km2 == pytest.approx(100, rel=0.01)
    assert found[1].overlap_km2 == pytest.approx(50, rel=0.03)
    assert len(offers.join_offers(aoi, start, end, pending, 1)) == 1


def test_a_huge_area_is_searched_by_its_convex_hull():
    ring = [[2 + math.cos(a / 100 * math.tau), 45 + math.sin(a / 100 * math.tau) * (1 + 0.1 * (a % 2))]
            for a in range(300)]
    big = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    sent = offers.search_area(big)
    assert len(sent["coordinates"][0]) < 300 and shape(sent).contains(shape(big))
    small = square(2.0, 45.0, 10)
    assert offers.search_area(small) == small


def test_search_body_asks_the_missions_collection_within_the_constraints():
    body = search_body("spot-6-7", square(2, 45, 10), NOW - timedelta(days=365), NOW, 20.0, 30.0, 50)
    assert body["collections"] == ["spot-6-7"] and body["limit"] == 50
    assert body["datetime"] == "2025-03-01T09:00:00Z/2026-03-01T09:00:00Z"
    assert body["filter"] == {"op": "and", "args": [
        {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 20.0]},
        {"op": "<=", "args": [{"property": "view:incidence_angle"}, 30.0]}]}
    archive = search_body("pleiades", square(2, 45, 10), None, None, None, None, 10)
    assert "datetime" not in archive and "filter" not in archive


def test_every_pending_tasking_sharing_a_point_is_under_a_tile_the_query_reads():
    """Small, medium and huge areas against each other: the grid never misses an overlap."""
    areas = [square(2.3, 45.2, 5), square(1.5, 44.5, 150), square(-3.0, 43.0, 900),
             {"type": "MultiPolygon", "coordinates": [square(2.3, 45.2, 5)["coordinates"],
                                                      square(-50.0, 4.0, 20)["coordinates"]]}]
    for stored in areas:
        for query in areas:
            if shape(stored).intersects(shape(query)):
                assert set(stored_keys("pleiades", shape(stored))) & set(query_keys("pleiades", shape(query)))
    small = shape(square(2.3, 45.2, 5))
    assert len(stored_keys("pleiades", small)) == 3  # one tile at each of 0.25°, 1°, 10°
    assert not set(stored_keys("spot-6-7", small)) & set(query_keys("pleiades", small))
    assert len(query_keys("pleiades", small)) <= 4
    assert tiles_at(small, 1) == [(2, 45)]


class FakeCatalogue:
    def __init__(self, items: list[dict]) -> None:
        self.items, self.asked = items, []

    async def delivered_covering(self, mission, aoi, start, end, max_cloud_cover, max_incidence_angle, limit):
        self.asked.append((mission, start, end, max_cloud_cover, max_incidence_angle, limit))
        await asyncio.sleep(0.05)
        return self.items


class FakeIndex:
    def __init__(self, pending: list[PendingTasking]) -> None:
        self.pending, self.removed = pending, []

    async def overlapping(self, mission, aoi, start, end, limit):
        await asyncio.sleep(0.05)
        return [p for p in self.pending if p.mission == mission]

    async def add(self, pending):
        self.pending.append(pending)
        return True

    async def remove(self, request_id, at):
        self.removed.append(request_id)


def _ctx(catalogue=None, index=None, rules: IntakeRules | None = None) -> Requests:
    return Requests(requests=None, entities=None, clock=lambda: NOW, rules=lambda day: rules or IntakeRules(),
                    catalogue=catalogue, tasking_index=index)


async def test_find_offers_asks_both_at_once_with_the_taskings_constraints():
    aoi = square(2.0, 45.0, 10)
    spec = tasking_spec(aoi)
    catalogue = FakeCatalogue([item("img", square(1.9, 44.9, 30), NOW - timedelta(days=20))])
    later = NOW + timedelta(days=15)
    index = FakeIndex([_pending("other", aoi, later), _pending("mine", aoi, later)])
    loop = asyncio.get_running_loop()
    began = loop.time()
    found = await find_offers(_ctx(catalogue, index), spec, exclude="mine")
    assert loop.time() - began < 0.095  # concurrently, not one after the other
    assert [o.item_id for o in found.delivered] == ["img"] and [o.request_id for o in found.join] == ["other"]
    mission, start, end, cloud, incidence, limit = catalogue.asked[0]
    assert (mission, cloud, incidence) == ("pleiades", 20, 30)
    assert start == spec.tasking.window_start - timedelta(days=365) and end == spec.tasking.window_start
    assert limit == 50


async def test_archive_requests_get_any_delivered_image_and_no_join_offer():
    aoi = square(2.0, 45.0, 10)
    spec = RequestSpec(kind="archive", title="a", mission="spot-6-7", justification="j", aoi=aoi, area_km2=100,
                       scenes=(Scene("airbus-archive-1", aoi, 100),))
    catalogue = FakeCatalogue([item("img", square(1.9, 44.9, 30), NOW - timedelta(days=3000), cloud=90,
                                    collection="spot-6-7")])
    index = FakeIndex([PendingTasking("other", "spot-6-7", "mono", aoi, NOW, NOW + timedelta(days=9))])
    found = await find_offers(_ctx(catalogue, index), spec)
    assert [o.item_id for o in found.delivered] == ["img"] and found.join == ()
    assert catalogue.asked[0][1:5] == (None, None, None, None)


async def test_no_sources_wired_or_offers_turned_off_give_no_offers():
    spec = tasking_spec(square(2.0, 45.0, 10))
    assert await find_offers(_ctx(), spec) == Offers()
    off = IntakeRules(offers_delivered_max=0, offers_join_max=0)
    catalogue, index = FakeCatalogue([]), FakeIndex([])
    found = await find_offers(_ctx(catalogue, index, off), spec)
    assert found.delivered == () and found.join == () and catalogue.asked == []


async def test_a_request_leaving_the_pending_set_is_removed_from_the_index():
    index = FakeIndex([])
    for status in ("in_review", "information_requested", "accepted", "partially_accepted", "ordered"):
        assert not await status_changed(index, "r1", status, NOW)
    for status in ("rejected", "cancelled", "failed", "expired", "delivered", "closed"):
        assert await status_changed(index, "r1", status, NOW)
    assert len(index.removed) == 6
