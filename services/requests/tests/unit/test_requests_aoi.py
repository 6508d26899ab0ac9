"""The area of interest a requester draws and the tasking window they ask for: accepted and
measured, or refused with a message naming the field and what to change (the limits are the intake
rules passed in, never constants)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod
from requests_service.domain.aoi import check_area, check_window, width_km
from requests_service.domain.errors import InvalidAoi, InvalidTasking
from requests_service.domain.rules import IntakeRules

RULES = IntakeRules()


def box(lon: float, lat: float, size: float, height: float | None = None) -> dict:
    h = size if height is None else height
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + h],
                                               [lon, lat + h], [lon, lat]]]}


def refusal(aoi, rules: IntakeRules = RULES) -> str:
    with pytest.raises(InvalidAoi) as refused:
        check_area(aoi, rules)
    return str(refused.value)


def test_a_polygon_is_measured_on_the_ellipsoid():
    area = check_area(box(3.8, 43.6, 0.1), RULES).area_km2
    lons, lats = [3.8, 3.9, 3.9, 3.8], [43.6, 43.6, 43.7, 43.7]
    expected = abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0]) / 1e6
    assert area == pytest.approx(expected, rel=1e-3)
    assert 85 < area < 95  # a 0.1° box at 43.6° N is about 89.5 km²


def test_a_multipolygon_counts_every_part():
    single = check_area(box(3.8, 43.6, 0.1), RULES).area_km2
    multi = {"type": "MultiPolygon", "coordinates": [box(3.8, 43.6, 0.1)["coordinates"],
                                                     box(5.0, 43.6, 0.1)["coordinates"]]}
    assert check_area(multi, RULES).area_km2 == pytest.approx(2 * single, rel=1e-2)


def test_a_self_intersecting_aoi_is_refused_saying_where_it_crosses_itself():
    bowtie = {"type": "Polygon", "coordinates": [[[2.30, 48.80], [2.40, 48.90], [2.40, 48.80], [2.30, 48.90],
                                                  [2.30, 48.80]]]}
    assert refusal(bowtie) == ("aoi crosses itself at 2.3500, 48.8500 (lon, lat): redraw it so that its edges do "
                               "not cross and its parts do not overlap")


def test_overlapping_parts_of_a_multipolygon_are_refused_saying_where():
    multi = {"type": "MultiPolygon", "coordinates": [box(3.8, 43.6, 0.1)["coordinates"],
                                                     box(3.85, 43.6, 0.1)["coordinates"]]}
    message = refusal(multi)
    assert message.startswith("aoi crosses itself at 3.") and "parts do not overlap" in message


@pytest.mark.parametrize(("aoi", "reason"), [
    ({"type": "Point", "coordinates": [3.8, 43.6]}, "aoi must be a GeoJSON Polygon or MultiPolygon, not 'Point'"),
    (box(179.95, 10, 0.1), "longitude in [-180, 180]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "aoi coordinates are not a valid Polygon"),
    ({"type": "Polygon", "coordinates": "garbage"}, "aoi coordinates are not a valid Polygon"),
    ({"type": "Polygon", "coordinates": []}, "aoi is empty"),
    (box(-10, 30, 20), "at most 1,000,000 km² per request: split it into several requests"),
])
def test_a_bad_aoi_is_refused_with_a_reason(aoi, reason):
    assert reason in refusal(aoi)


def test_more_vertices_than_the_rules_accept_are_refused():
    rules = IntakeRules(max_vertices=40)
    n = 41
    ring = [[3.8 + 0.1 * math.cos(2 * math.pi * i / n), 43.6 + 0.1 * math.sin(2 * math.pi * i / n)] for i in range(n)]
    aoi = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    assert refusal(aoi, rules) == "aoi has 41 vertices; at most 40 are accepted: simplify it"
    assert check_area(aoi, IntakeRules(max_vertices=41)).area_km2 > 0


def test_an_area_under_the_minimum_is_refused_saying_how_much_it_covers():
    assert refusal(box(3.8, 43.6, 0.02)) == "aoi covers 3.59 km²; Airbus produces at least 5 km²: enlarge it"
    assert check_area(box(3.8, 43.6, 0.02), IntakeRules(min_area_km2=3)).area_km2 == pytest.approx(3.59, abs=0.01)


def test_a_strip_narrower_than_the_minimum_width_is_refused():
    strip = box(3.8, 43.6, 0.5, 0.007)  # 40 km long, 0.78 km high: 31 km², too narrow
    message = refusal(strip)
    assert message.startswith("aoi is only 0.7") and message.endswith(
        "km wide at its widest (around 4.0500, 43.6035); it must be at least 1 km wide: widen it")
    assert check_area(strip, IntakeRules(min_width_km=0.5)).area_km2 > 30


def test_the_width_sees_a_thin_ring_that_a_bounding_rectangle_would_not():
    outer = box(3.8, 43.6, 0.2)["coordinates"][0]
    inner = [[3.805, 43.605], [3.805, 43.795], [3.995, 43.795], [3.995, 43.605], [3.805, 43.605]]
    ring = {"type": "Polygon", "coordinates": [outer, inner]}  # 16 km across, a frame 0.4-0.55 km wide
    assert "km wide at its widest" in refusal(ring)


def test_the_width_of_a_box_is_its_shorter_side_measured_on_the_ground():
    aoi = check_area(box(3.8, 43.6, 0.1), RULES)  # 8.05 km east-west, 11.1 km north-south
    assert width_km(aoi.geometry) == pytest.approx(8.05, rel=0.01)


def test_each_part_of_a_multipolygon_must_be_wide_enough():
    multi = {"type": "MultiPolygon", "coordinates": [box(3.8, 43.6, 0.1)["coordinates"],
                                                     box(5.0, 43.6, 0.5, 0.007)["coordinates"]]}
    assert refusal(multi).startswith("part 2 of aoi is only 0.7")


# -- tasking windows -----------------------------------------------------------------------------
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def window_refusal(start: datetime, end: datetime, rules: IntakeRules = RULES) -> str:
    with pytest.raises(InvalidTasking) as refused:
        check_window(start, end, NOW, rules)
    return str(refused.value)


def test_a_window_two_days_ahead_lasting_a_week_is_accepted():
    check_window(NOW + timedelta(days=2), NOW + timedelta(days=9), NOW, RULES)


def test_a_window_starting_too_soon_is_refused_saying_from_when():
    assert window_refusal(NOW + timedelta(days=1), NOW + timedelta(days=10)) == (
        "tasking.window.start must be at least 2 days ahead: start on 2026-03-03T09:00+00:00 or later")


def test_a_window_too_short_is_refused_saying_until_when():
    assert window_refusal(NOW + timedelta(days=3), NOW + timedelta(days=6)) == (
        "tasking.window lasts 3.0 days; it must last at least 7 days: end it on 2026-03-11T09:00+00:00 or later")


def test_a_window_too_long_or_backwards_is_refused():
    assert window_refusal(NOW + timedelta(days=3), NOW + timedelta(days=400)) == (
        "tasking.window lasts 397.0 days; at most 365 days are accepted: shorten it")
    assert window_refusal(NOW + timedelta(days=9), NOW + timedelta(days=3)).startswith(
        "tasking.window.end (2026-03-04T09:00:00+00:00) must be after tasking.window.start")


def test_the_window_rules_are_configuration():
    rules = IntakeRules(tasking_min_lead_days=0.5, tasking_min_window_days=1)
    check_window(NOW + timedelta(days=1), NOW + timedelta(days=2), NOW, rules)
