"""Areas of interest as Airbus takes them: GeoJSON Polygon (closed, 4 to 999 positions, no holes), or for a
tasking a MultiPolygon of such; their area on the sphere."""

from __future__ import annotations

import itertools
import math
from typing import Any

from airbus_simulator.errors import Refused

EARTH_RADIUS_KM = 6371.0088
MAX_VERTICES = 999


def rings(aoi: Any, multi: bool) -> list[list[tuple[float, float]]]:
    """The outer ring of each polygon of ``aoi``; ``Refused`` when Airbus would refuse it."""
    if not isinstance(aoi, dict) or aoi.get("type") not in (("Polygon", "MultiPolygon") if multi else ("Polygon",)):
        raise Refused("invalid_aoi", "the area of interest must be a GeoJSON Polygon"
                      + (" or MultiPolygon" if multi else ""))
    polygons = [aoi.get("coordinates")] if aoi["type"] == "Polygon" else aoi.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        raise Refused("invalid_aoi", "the area of interest has no coordinates")
    return [_ring(p) for p in polygons]


def _ring(polygon: Any) -> list[tuple[float, float]]:
    if not isinstance(polygon, list) or len(polygon) != 1:
        raise Refused("invalid_aoi", "a polygon must have one ring and no holes")
    ring = polygon[0]
    if not isinstance(ring, list) or not 4 <= len(ring) <= MAX_VERTICES:
        raise Refused("invalid_aoi", f"a polygon has 4 to {MAX_VERTICES} positions")
    try:
        points = [(float(p[0]), float(p[1])) for p in ring]
    except (TypeError, ValueError, IndexError):
        raise Refused("invalid_aoi", "a position is [longitude, latitude]") from None
    if points[0] != points[-1]:
        raise Refused("invalid_aoi", "a polygon must be closed (first position = last)")
    if any(not (-180 <= x <= 180 and -90 <= y <= 90) or not math.isfinite(x + y) for x, y in points):
        raise Refused("invalid_aoi", "a position is out of longitude/latitude range")
    if ring_area_km2(points) <= 0:
        raise Refused("invalid_aoi", "the polygon has no area")
    return points


def ring_area_km2(points: list[tuple[float, float]]) -> float:
    """Area of a closed lon/lat ring on the sphere (Chamberlain & Duquette)."""
    total = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        total += math.radians(x2 - x1) * (2 + math.sin(math.radians(y1)) + math.sin(math.radians(y2)))
    return abs(total) * EARTH_RADIUS_KM**2 / 2


def area_km2(all_rings: list[list[tuple[float, float]]]) -> float:
    return sum(ring_area_km2(r) for r in all_rings)
