"""What a requester draws and when they want it, checked against the intake rules in force
(:class:`~requests_service.domain.rules.IntakeRules`, passed in: no limit is a constant here).

**Areas** are GeoJSON (Multi)Polygons in WGS 84. shapely says whether a geometry is valid and where
not (``explain_validity`` gives the point where a ring crosses itself or two parts overlap); the area
is pyproj's geodesic area on the WGS 84 ellipsoid (a planar area in degrees is wrong by a factor that
varies with latitude).

**Width** is the diameter of the largest disc that fits in each polygon part (shapely's
``maximum_inscribed_circle``), measured in an azimuthal equidistant projection centred on that part,
where distances near the centre are true to well under 0.1 % for parts of a few hundred km. Unlike the
shorter side of a minimum rotated rectangle, it sees a thin part of a wide outline (an L, a ring):
each part must hold a disc of ``min_width_km`` somewhere, i.e. can be imaged as one strip at least
that wide. A MultiPolygon's every part must be that wide.

**Tasking windows**: the window starts at least ``tasking_min_lead_days`` after now, lasts at least
``tasking_min_window_days`` and at most ``tasking_max_window_days``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from requests_service.domain.errors import InvalidAoi, InvalidTasking
from requests_service.domain.rules import IntakeRules

_GEOD = Geod(ellps="WGS84")
_WGS84 = CRS.from_epsg(4326)
_WHERE = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)\]")


@dataclass(frozen=True)
class Area:
    geometry: BaseGeometry  # shapely, lon/lat
    geojson: dict[str, Any]
    area_km2: float  # geodesic


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return list(getattr(geom, "geoms", [geom]))


def _vertex_count(geom: BaseGeometry) -> int:
    return sum(len(p.exterior.coords) - 1 + sum(len(i.coords) - 1 for i in p.interiors) for p in _parts(geom))


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """The area on the WGS 84 ellipsoid, km² (0 for an empty geometry)."""
    if geom.is_empty:
        return 0.0
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def _at(x: float, y: float) -> str:
    return f"{x:.4f}, {y:.4f}"


def _invalid_reason(geom: BaseGeometry, field: str) -> str:
    """``explain_validity`` in words: what is wrong and at which longitude, latitude."""
    text = explain_validity(geom)
    found = _WHERE.match(text)
    if not found:
        return f"{field} is not a valid polygon ({text}): draw it again without crossing edges"
    reason, where = found["reason"].strip().lower(), _at(float(found["x"]), float(found["y"]))
    if "self-intersection" in reason:
        return (f"{field} crosses itself at {where} (lon, lat): redraw it so that its edges do not cross "
                "and its parts do not overlap")
    if "too few points" in reason:
        return f"{field} has a ring with too few distinct points near {where}: a ring needs at least 3 corners"
    if "hole" in reason or "nested" in reason:
        return f"{field} has a hole outside its outline or inside another hole near {where}: {found['reason'].strip()}"
    return f"{field} is not a valid polygon at {where} (lon, lat): {found['reason'].strip()}"


def width_km(part: BaseGeometry) -> float:
    """The diameter of the largest disc inside one polygon ``part`` (lon/lat), km (see the module's notes)."""
    c = part.centroid
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    to_local = Transformer.from_crs(_WGS84, local, always_xy=True)
    projected = shapely.transform(part, lambda x, y: to_local.transform(x, y), interleaved=False)
    if projected.is_empty or projected.area <= 0:
        return 0.0
    radius_line = shapely.maximum_inscribed_circle(projected, tolerance=max(1.0, math.sqrt(projected.area) / 1000))
    return 2 * radius_line.length / 1000


def check_area(geojson: Any, rules: IntakeRules, field: str = "aoi", *, minimum: bool = True) -> Area:
    """The area, checked and measured, or :class:`InvalidAoi` naming ``field`` and what to do.
    ``minimum=False`` skips the minimum area and width (a scene's clip is checked after clipping)."""
    kind = geojson.get("type") if isinstance(geojson, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidAoi(f"{field} must be a GeoJSON Polygon or MultiPolygon, not {kind!r}")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise InvalidAoi(f"{field} coordinates are not a valid {kind}: {exc}") from exc
    if geom.is_empty:
        raise InvalidAoi(f"{field} is empty: give at least one ring of 4 positions (the last equal to the first)")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidAoi(f"{field} coordinates must be [longitude, latitude] with longitude in [-180, 180] "
                         "and latitude in [-90, 90]")
    if (n := _vertex_count(geom)) > rules.max_vertices:
        raise InvalidAoi(f"{field} has {n} vertices; at most {rules.max_vertices} are accepted: simplify it")
    if not geom.is_valid:
        raise InvalidAoi(_invalid_reason(geom, field))
    area = geodesic_area_km2(geom)
    if area > rules.max_area_km2:
        raise InvalidAoi(f"{field} covers {area:,.1f} km²; at most {rules.max_area_km2:,.0f} km² per request: "
                         "split it into several requests")
    if minimum:
        check_size(geom, area, rules, field)
    return Area(geom, geojson, round(area, 3))


def check_size(geom: BaseGeometry, area_km2: float, rules: IntakeRules, field: str = "aoi") -> None:
    """At least ``min_area_km2`` in all and every part at least ``min_width_km`` wide."""
    if area_km2 < rules.min_area_km2:
        raise InvalidAoi(f"{field} covers {area_km2:,.2f} km²; Airbus produces at least {rules.min_area_km2:g} km²: "
                         "enlarge it")
    parts = _parts(geom)
    for i, part in enumerate(parts, start=1):
        if (w := width_km(part)) < rules.min_width_km:
            which = field if len(parts) == 1 else f"part {i} of {field}"
            raise InvalidAoi(f"{which} is only {w:.2f} km wide at its widest (around "
                             f"{_at(part.centroid.x, part.centroid.y)}); it must be at least {rules.min_width_km:g} "
                             "km wide: widen it")


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a shapely geometry, with lists (not tuples), as JSON and Mongo keep it."""
    def lists(v: Any) -> Any:
        return [lists(x) for x in v] if isinstance(v, list | tuple) else v
    data = mapping(geom)
    return {"type": data["type"], "coordinates": lists(data["coordinates"])}


def check_window(start: datetime, end: datetime, now: datetime, rules: IntakeRules) -> None:
    """The tasking window against the rules in force, or :class:`InvalidTasking` saying what to change."""
    if end <= start:
        raise InvalidTasking(f"tasking.window.end ({end.isoformat()}) must be after tasking.window.start "
                             f"({start.isoformat()})")
    earliest = now + timedelta(days=rules.tasking_min_lead_days)
    if start < earliest:
        raise InvalidTasking(f"tasking.window.start must be at least {rules.tasking_min_lead_days:g} days ahead: "
                             f"start on {earliest.isoformat(timespec='minutes')} or later")
    length = end - start
    if length < timedelta(days=rules.tasking_min_window_days):
        raise InvalidTasking(f"tasking.window lasts {length.total_seconds() / 86400:.1f} days; it must last at "
                             f"least {rules.tasking_min_window_days:g} days: end it on "
                             f"{(start + timedelta(days=rules.tasking_min_window_days)).isoformat(timespec='minutes')}"
                             " or later")
    if length > timedelta(days=rules.tasking_max_window_days):
        raise InvalidTasking(f"tasking.window lasts {length.total_seconds() / 86400:.1f} days; at most "
                             f"{rules.tasking_max_window_days:g} days are accepted: shorten it")
