"""Area of interest: a GeoJSON (Multi)Polygon in WGS 84, checked and measured on the ellipsoid.

shapely says whether a geometry is valid and why not; pyproj's geodesic area is exact on
WGS 84 (a planar area in degrees is wrong by a factor that varies with latitude).
"""

from __future__ import annotations

from typing import Any

from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from requests_service.domain.errors import InvalidAoi

MAX_VERTICES = 999  # Airbus ordering limit per polygon
MAX_AREA_KM2 = 1_000_000.0
_GEOD = Geod(ellps="WGS84")


def _vertex_count(geom: BaseGeometry) -> int:
    polygons = getattr(geom, "geoms", [geom])
    return sum(len(p.exterior.coords) - 1 + sum(len(i.coords) - 1 for i in p.interiors) for p in polygons)


def parse_aoi(geojson: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Returns the AOI (as given) and its geodesic area in km², or raises :class:`InvalidAoi`."""
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidAoi(f"aoi must be a GeoJSON Polygon or MultiPolygon, not {kind!r}")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise InvalidAoi(f"aoi coordinates are not a valid {kind}: {exc}") from exc
    if geom.is_empty:
        raise InvalidAoi("aoi is empty")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidAoi("aoi coordinates must be longitude in [-180, 180] and latitude in [-90, 90]")
    if (n := _vertex_count(geom)) > MAX_VERTICES:
        raise InvalidAoi(f"aoi has {n} vertices; at most {MAX_VERTICES} are accepted")
    if not geom.is_valid:
        raise InvalidAoi(f"aoi is not a valid polygon: {explain_validity(geom)}")
    area_km2 = abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6
    if area_km2 <= 0:
        raise InvalidAoi("aoi has no area")
    if area_km2 > MAX_AREA_KM2:
        raise InvalidAoi(f"aoi covers {area_km2:,.0f} km²; at most {MAX_AREA_KM2:,.0f} km² per request")
    return geojson, round(area_km2, 3)
