"""The area of interest a requester draws: accepted and measured, or refused with a reason."""

from __future__ import annotations

import pytest
from pyproj import Geod
from requests_service.domain.aoi import MAX_VERTICES, parse_aoi
from requests_service.domain.errors import InvalidAoi


def box(lon: float, lat: float, size: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                               [lon, lat + size], [lon, lat]]]}


def test_a_polygon_is_measured_on_the_ellipsoid():
    _, area = parse_aoi(box(3.8, 43.6, 0.1))
    lons, lats = [3.8, 3.9, 3.9, 3.8], [43.6, 43.6, 43.7, 43.7]
    expected = abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0]) / 1e6
    assert area == pytest.approx(expected, rel=1e-3)
    assert 85 < area < 95  # a 0.1° box at 43.6° N is about 89.5 km²


def test_a_multipolygon_counts_every_part():
    single = parse_aoi(box(3.8, 43.6, 0.1))[1]
    multi = {"type": "MultiPolygon", "coordinates": [box(3.8, 43.6, 0.1)["coordinates"],
                                                     box(5.0, 43.6, 0.1)["coordinates"]]}
    assert parse_aoi(multi)[1] == pytest.approx(2 * single, rel=1e-2)


@pytest.mark.parametrize(("aoi", "reason"), [
    ({"type": "Point", "coordinates": [3.8, 43.6]}, "not 'Point'"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
    (box(179.95, 10, 0.1), "longitude in [-180, 180]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "not a valid Polygon"),
    ({"type": "Polygon", "coordinates": "garbage"}, "not a valid Polygon"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    (box(-10, 30, 20), "at most 1,000,000 km²"),
])
def test_a_bad_aoi_is_refused_with_a_reason(aoi, reason):
    with pytest.raises(InvalidAoi, match=None) as refused:
        parse_aoi(aoi)
    assert reason in str(refused.value)


def test_more_vertices_than_airbus_accepts_are_refused():
    import math

    n = MAX_VERTICES + 1
    ring = [[3.8 + 0.1 * math.cos(2 * math.pi * i / n), 43.6 + 0.1 * math.sin(2 * math.pi * i / n)] for i in range(n)]
    with pytest.raises(InvalidAoi, match=f"{n} vertices"):
        parse_aoi({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
