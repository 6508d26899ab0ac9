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

**GeoJSON strictly as RFC 7946**, read before shapely sees it (:func:`parse_area`):
- members: ``type``, ``coordinates`` and an optional ``bbox`` (4 or 6 finite numbers, checked and then
  dropped: the stored area is ``{type, coordinates}`` only, its rings by the right-hand rule: outline
  counter-clockwise, holes clockwise). ``crs`` is refused with a message (RFC 7946
  has no ``crs``: coordinates are WGS 84); any other member is refused by name. Nothing unknown is stored
  or announced.
- a position is 2 or 3 finite numbers (booleans are not numbers), longitude in [-180, 180], latitude in
  [-90, 90]; an altitude is accepted and dropped (areas are measured on the ellipsoid's surface).
- a ring has at least 4 positions and its last repeats its first: an unclosed ring is refused, never
  closed for the caller (shapely would close it silently).
- **the antimeridian**: an edge whose longitudes are more than 180° apart crosses it (RFC 7946 §3.1.9).
  Such a ring is refused with a message asking for a MultiPolygon split at ±180°. So every area kept here
  is one where a planar reading in longitude/latitude (shapely, the tasking index, offers, the catalogue's
  search) and the geodesic reading (pyproj, whose edges are the shortest way) agree on which side is
  inside, and the area is measured the same way everywhere.

**Tasking windows**: the window starts at least ``tasking_min_lead_days`` after now, lasts at least
``tasking_min_window_days`` and at most ``tasking_max_window_days``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
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


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """The area on the WGS 84 ellipsoid, km² (0 for an empty geometry). The rings are oriented first
    (outline counter-clockwise, holes clockwise): pyproj sums the signed areas of the rings, so a hole
    drawn the same way round as its outline (RFC 7946 lets readers accept either) would be added, not
    taken away."""
    if geom.is_empty:
        return 0.0
    return abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e6


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


@functools.lru_cache(maxsize=512)
def _equidistant_at(lat: float, lon: float) -> Transformer:
    """WGS 84 → an azimuthal equidistant projection centred at (lat, lon), metres. Building one costs
    ~9 ms, so centres are rounded to 0.1° and kept: within 6 km of the true centroid, distances near
    it are unchanged to well under a metre."""
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    return Transformer.from_crs(_WGS84, local, always_xy=True)


def width_km(part: BaseGeometry) -> float:
    """The diameter of the largest disc inside one polygon ``part`` (lon/lat), km (see the module's notes)."""
    c = part.centroid
    to_local = _equidistant_at(round(c.y, 1), round(c.x, 1))
    projected = shapely.transform(part, lambda x, y: to_local.transform(x, y), interleaved=False)
    if projected.is_empty or projected.area <= 0:
        return 0.0
    radius_line = shapely.maximum_inscribed_circle(projected, tolerance=max(1.0, math.sqrt(projected.area) / 1000))
    return 2 * radius_line.length / 1000


MEMBERS = frozenset({"type", "coordinates", "bbox"})
CRS_REFUSED = ("has a crs member: GeoJSON (RFC 7946) has none, its coordinates are always WGS 84 longitude, "
               "latitude; remove crs and give the coordinates in WGS 84")


def _name(key: Any) -> str:
    text = str(key)
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _position(value: Any, where: str, field: str) -> tuple[float, float]:
    """One RFC 7946 position as (longitude, latitude) floats, or :class:`InvalidAoi` saying where."""
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise InvalidAoi(f"{field} coordinates are not valid: {where} must be a position [longitude, latitude] "
                         "(2 numbers, or 3 with an altitude)")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidAoi(f"{field} coordinates are not valid: {where} holds {type(number).__name__}; "
                             "a position holds numbers only")
        if isinstance(number, float) and not math.isfinite(number):
            raise InvalidAoi(f"{field} coordinates are not valid: {where} holds {number}; "
                             "coordinates must be finite numbers")
    lon, lat = value[0], value[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidAoi(f"{field} coordinates must be [longitude, latitude] with longitude in [-180, 180] "
                         f"and latitude in [-90, 90]: {where} is out of range")
    return float(lon), float(lat)


def _ring(value: Any, where: str, field: str) -> list[list[float]]:
    """A closed linear ring (RFC 7946 §3.1.6) that does not cross the antimeridian, as [lon, lat] lists."""
    if not isinstance(value, list | tuple):
        raise InvalidAoi(f"{field} coordinates are not valid: {where} must be a ring (a list of positions)")
    if len(value) < 4:
        raise InvalidAoi(f"{field} coordinates are not valid: {where} has {len(value)} positions; a ring needs at "
                         "least 4, the last equal to the first")
    ring = [_position(p, f"{where}[{i}]", field) for i, p in enumerate(value)]
    if ring[0] != ring[-1] or list(value[0]) != list(value[-1]):
        raise InvalidAoi(f"{field} ring {where} is not closed: its last position {list(value[-1])} must repeat its "
                         f"first {list(value[0])} (RFC 7946 §3.1.6); nothing is closed for you: add it")
    for i, ((x0, y0), (x1, y1)) in enumerate(pairwise(ring)):
        if abs(x1 - x0) > 180:
            raise InvalidAoi(f"{field} crosses the antimeridian between {where}[{i}] ({_at(x0, y0)}) and "
                             f"{where}[{i + 1}] ({_at(x1, y1)}): split it at longitude 180 into a MultiPolygon "
                             "with one part on each side (RFC 7946 §3.1.9)")
    return [[x, y] for x, y in ring]


def _polygon(value: Any, where: str, field: str) -> list[list[list[float]]]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidAoi(f"{field} coordinates are not valid: {where} must be a non-empty list of rings "
                         "(the outline first, then its holes)")
    return [_ring(r, f"{where}[{i}]", field) for i, r in enumerate(value)]


def _declared_vertices(coordinates: Any, depth: int) -> int:
    """The vertices the coordinates hold (a ring's closing position not counted), counted on the lists
    alone before any position is read; what is not a list counts 0 (the strict reading refuses it)."""
    if not isinstance(coordinates, list | tuple):
        return 0
    if depth == 0:
        return max(len(coordinates) - 1, 0)
    return sum(_declared_vertices(c, depth - 1) for c in coordinates)


def parse_area(geojson: Any, field: str = "aoi", max_vertices: int = 999) -> dict[str, Any]:
    """``geojson`` read strictly as an RFC 7946 Polygon or MultiPolygon (see the module's notes):
    ``{type, coordinates}`` with [lon, lat] floats, or :class:`InvalidAoi` naming the field, the place
    and what to change."""
    if not isinstance(geojson, dict):
        raise InvalidAoi(f"{field} must be a GeoJSON Polygon or MultiPolygon object")
    if "crs" in geojson:
        raise InvalidAoi(f"{field} {CRS_REFUSED}")
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidAoi(f"{field} must be a GeoJSON Polygon or MultiPolygon, not {kind!r}"[:200])
    if unknown := sorted(set(geojson) - MEMBERS, key=str):
        raise InvalidAoi(f"{field} has members a {kind} does not have: {', '.join(map(_name, unknown[:5]))}; "
                         "only type, coordinates and bbox are accepted")
    if "bbox" in geojson and geojson["bbox"] is not None:
        bbox = geojson["bbox"]
        if (not isinstance(bbox, list | tuple) or len(bbox) not in (4, 6)
                or any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in bbox)):
            raise InvalidAoi(f"{field}.bbox must be 4 finite numbers [west, south, east, north] (or 6 with "
                             "altitudes); leave it out if unsure")
    coordinates = geojson.get("coordinates")
    if isinstance(coordinates, list | tuple) and not coordinates:
        raise InvalidAoi(f"{field} is empty: give at least one ring of 4 positions (the last equal to the first)")
    if not isinstance(coordinates, list | tuple):
        raise InvalidAoi(f"{field} coordinates are not a valid {kind}: a list of "
                         f"{'rings' if kind == 'Polygon' else 'polygons'} is expected")
    if (n := _declared_vertices(coordinates, 1 if kind == "Polygon" else 2)) > max_vertices:
        raise InvalidAoi(f"{field} has {n} vertices; at most {max_vertices} are accepted: simplify it")
    try:
        if kind == "Polygon":
            parsed: list[Any] = _polygon(coordinates, "coordinates", field)
        else:
            parsed = [_polygon(p, f"coordinates[{i}]", field) for i, p in enumerate(coordinates)]
    except InvalidAoi as exc:
        if str(exc).startswith(f"{field} coordinates are not valid:"):
            raise InvalidAoi(str(exc).replace("are not valid:", f"are not a valid {kind}:", 1)) from None
        raise
    return {"type": kind, "coordinates": parsed}


def check_area(geojson: Any, rules: IntakeRules, field: str = "aoi", *, minimum: bool = True) -> Area:
    """The area, checked and measured, or :class:`InvalidAoi` naming ``field`` and what to do.
    ``minimum=False`` skips the minimum area and width (a scene's clip is checked after clipping).
    What is kept (``Area.geojson``) is the strict reading, ``{type, coordinates}``, never the caller's
    object."""
    geom = shape(parse_area(geojson, field, rules.max_vertices))
    if geom.is_empty:
        raise InvalidAoi(f"{field} is empty: give at least one ring of 4 positions (the last equal to the first)")
    if not geom.is_valid:
        raise InvalidAoi(_invalid_reason(geom, field))
    area = geodesic_area_km2(geom)
    if area > rules.max_area_km2:
        raise InvalidAoi(f"{field} covers {area:,.1f} km²; at most {rules.max_area_km2:,.0f} km² per request: "
                         "split it into several requests")
    if minimum:
        check_size(geom, area, rules, field)
    geom = shapely.orient_polygons(geom)  # kept by the right-hand rule (RFC 7946 §3.1.6), as every reader expects
    return Area(geom, to_geojson(geom), round(area, 3))


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
