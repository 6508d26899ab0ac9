"""An area is read strictly as RFC 7946 GeoJSON before anything measures it (issue 11): known members
only (``crs`` refused with a reason), finite numbers in range, closed rings, no ring crossing the
antimeridian; what is kept is ``{type, coordinates}`` and nothing the caller added."""

from __future__ import annotations

import math

import pytest
from requests_service.domain.aoi import check_area
from requests_service.domain.errors import InvalidAoi
from requests_service.domain.offers import area_km2
from requests_service.domain.rules import IntakeRules
from shapely.geometry import LinearRing, shape

RULES = IntakeRules()
RING = [[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]


def polygon(ring=RING, **members) -> dict:
    return {"type": "Polygon", "coordinates": [ring], **members}


def refusal(aoi, rules: IntakeRules = RULES) -> str:
    with pytest.raises(InvalidAoi) as refused:
        check_area(aoi, rules)
    return str(refused.value)


def test_a_crs_member_is_refused_saying_why():
    message = refusal(polygon(crs={"type": "name", "properties": {"name": "EPSG:2154"}}))
    assert "crs" in message and "WGS 84" in message and "remove crs" in message


@pytest.mark.parametrize("member", ["properties", "id", "geometry", "foo\x00"])
def test_unknown_members_are_refused_by_name(member):
    message = refusal(polygon(**{member: {"x": 1}}))
    assert "members a Polygon does not have" in message and repr(member) in message


def test_a_bbox_is_checked_then_dropped_and_nothing_else_is_kept():
    area = check_area(polygon(bbox=[3.8, 43.6, 3.9, 43.7]), RULES)
    assert area.geojson == {"type": "Polygon", "coordinates": [RING]}
    assert "bbox must be 4 finite numbers" in refusal(polygon(bbox=[3.8, 43.6, math.inf, 43.7]))
    assert "bbox must be 4 finite numbers" in refusal(polygon(bbox=[3.8, 43.6]))


def test_altitudes_are_accepted_and_dropped_integers_become_floats():
    ring = [[3, 43, 100], [4, 43, 100], [4, 44, 100], [3, 44, 100], [3, 43, 100]]
    kept = check_area(polygon(ring), RULES).geojson["coordinates"][0]
    assert kept == [[3.0, 43.0], [4.0, 43.0], [4.0, 44.0], [3.0, 44.0], [3.0, 43.0]]
    assert all(isinstance(v, float) for p in kept for v in p)


@pytest.mark.parametrize(("bad", "reason"), [
    (math.nan, "coordinates must be finite numbers"),
    (math.inf, "coordinates must be finite numbers"),
    (-math.inf, "coordinates must be finite numbers"),
    (10 ** 400, "longitude in [-180, 180]"),  # a 400-digit number: in no range, never converted to a float
    (True, "a position holds numbers only"),
    ("3.8", "a position holds numbers only"),
    (None, "a position holds numbers only"),
])
def test_a_coordinate_that_is_not_a_finite_number_in_range_is_refused_saying_where(bad, reason):
    ring = [list(p) for p in RING]
    ring[2][0] = bad
    message = refusal(polygon(ring))
    assert reason in message and "coordinates[0][2]" in message


@pytest.mark.parametrize("position", [[3.8], [3.8, 43.6, 1, 2], "3.8,43.6", 3.8])
def test_a_position_of_the_wrong_shape_is_refused(position):
    ring = [list(p) for p in RING]
    ring[1] = position
    assert "coordinates are not a valid Polygon: coordinates[0][1]" in refusal(polygon(ring))


def test_an_unclosed_ring_is_refused_not_closed_silently():
    message = refusal(polygon([*RING[:-1], [3.81, 43.6]]))
    assert "is not closed" in message and "[3.8, 43.6]" in message and "RFC 7946" in message


def test_a_hole_must_be_closed_too():
    hole = [[3.82, 43.62], [3.85, 43.62], [3.85, 43.65], [3.82, 43.65]]
    assert "ring coordinates[1] is not closed" in refusal({"type": "Polygon", "coordinates": [RING, hole]})
    holed = check_area({"type": "Polygon", "coordinates": [RING, [*hole, hole[0]]]}, RULES)
    assert holed.area_km2 < check_area(polygon(), RULES).area_km2  # a hole drawn either way round is taken away
    outline, kept_hole = holed.geojson["coordinates"]
    assert LinearRing(outline).is_ccw and not LinearRing(kept_hole).is_ccw  # kept by the right-hand rule


def test_a_ring_crossing_the_antimeridian_is_refused_asking_for_a_multipolygon():
    crossing = [[179.5, -17.0], [-179.5, -17.0], [-179.5, -16.5], [179.5, -16.5], [179.5, -17.0]]
    message = refusal(polygon(crossing))
    assert "crosses the antimeridian" in message and "MultiPolygon" in message and "coordinates[0][0]" in message


def test_the_same_area_split_at_the_antimeridian_is_measured_the_same_by_every_reading():
    west = [[179.5, -17.0], [180.0, -17.0], [180.0, -16.5], [179.5, -16.5], [179.5, -17.0]]
    east = [[-180.0, -17.0], [-179.5, -17.0], [-179.5, -16.5], [-180.0, -16.5], [-180.0, -17.0]]
    split = {"type": "MultiPolygon", "coordinates": [[west], [east]]}
    area = check_area(split, RULES)
    one_side = check_area(polygon(west), RULES).area_km2
    assert area.area_km2 == pytest.approx(2 * one_side, rel=1e-6)
    # offers and the tasking index read the stored area with shapely: the same km² (geodesic), and a planar
    # extent of 1° (not 359°), so a neighbour on either side overlaps it and one 300° away does not
    geom = shape(area.geojson)
    assert area_km2(geom) == pytest.approx(area.area_km2, rel=1e-6)
    assert geom.intersects(shape(polygon([[179.8, -16.9], [180.0, -16.9], [180.0, -16.8], [179.8, -16.8],
                                          [179.8, -16.9]])))
    assert not geom.intersects(shape(polygon([[0.0, -16.9], [0.5, -16.9], [0.5, -16.8], [0.0, -16.8],
                                              [0.0, -16.9]])))


@pytest.mark.parametrize("coordinates", [[[]], [["x"]], [[[3.8, 43.6]] * 3], {"a": 1}])
def test_malformed_coordinates_are_refused_with_a_message(coordinates):
    assert "coordinates are not a valid Polygon" in refusal({"type": "Polygon", "coordinates": coordinates})


def test_a_multipolygon_part_that_is_not_a_polygon_is_refused_saying_which():
    message = refusal({"type": "MultiPolygon", "coordinates": [[RING], []]})
    assert "coordinates are not a valid MultiPolygon: coordinates[1]" in message


def test_vertices_are_counted_before_any_position_is_read():
    huge = [["not a position"]] * 10_000
    assert refusal(polygon(huge), IntakeRules(max_vertices=999)) == (
        "aoi has 9999 vertices; at most 999 are accepted: simplify it")
