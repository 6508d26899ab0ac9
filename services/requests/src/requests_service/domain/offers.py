"""Overlap offers, computed: how much of a requested area a delivered image covers, how much a
pending tasking shares with it, and which to offer first.

Intersections are computed by shapely on longitude/latitude (straight edges in degrees, as GeoJSON
draws them); **areas are geodesic**, on the WGS 84 ellipsoid (pyproj ``Geod``), like the request's own
area (``domain.aoi``), so a coverage is the ratio of two areas measured the same way and an overlap is
in real km² at any latitude. Geometries crossing the antimeridian are not split (none of the
platform's areas do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from requests_service.domain.aoi import geodesic_area_km2
from requests_service.domain.quote import DeliveredOffer, JoinOffer

# the delivered collection of each mission (the catalogue's collections holding delivered imagery)
DELIVERED_COLLECTION = {"pleiades": "pleiades", "spot-6-7": "spot-6-7"}
MIN_SHARE = 1e-4  # a coverage below this (a shared edge, a rounding sliver) is no offer
# a tasking request in one of these is no longer pending: nobody can join it any more
NOT_PENDING = frozenset({"rejected", "cancelled", "failed", "expired", "delivered", "closed"})
SEARCH_VERTICES = 200  # an area with more vertices is searched by its convex hull, then intersected exactly


def area_km2(geom: BaseGeometry) -> float:
    """Geodesic area of a (Multi)Polygon in km² (0 for anything without area)."""
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        polygons = [g for g in getattr(geom, "geoms", ()) if g.geom_type in ("Polygon", "MultiPolygon")]
        return sum(area_km2(g) for g in polygons)
    return geodesic_area_km2(geom)  # rings oriented first, as intake measures


def _vertices(geom: BaseGeometry) -> int:
    return sum(len(p.exterior.coords) for p in getattr(geom, "geoms", [geom]))


def search_area(aoi: Mapping[str, Any]) -> dict[str, Any]:
    """What to send to the catalogue's search for ``aoi``: the area itself, or its convex hull when it
    has many vertices (cheaper to search; the exact intersection is made here after)."""
    geom = shape(aoi)
    if _vertices(geom) > SEARCH_VERTICES:
        return dict(mapping(geom.convex_hull))
    return dict(aoi)


def coverage(aoi: BaseGeometry, aoi_km2: float, footprint: BaseGeometry) -> float:
    """The share (0..1) of ``aoi`` (of geodesic area ``aoi_km2``) that ``footprint`` covers."""
    if aoi_km2 <= 0 or not aoi.intersects(footprint):
        return 0.0
    return min(1.0, area_km2(aoi.intersection(footprint)) / aoi_km2)


def _when(item: Mapping[str, Any]) -> datetime | None:
    value = (item.get("properties") or {}).get("datetime")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(item: Mapping[str, Any], key: str) -> float | None:
    value = (item.get("properties") or {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def delivered_offers(aoi: Mapping[str, Any], items: Iterable[Mapping[str, Any]], limit: int, *,
                     start: datetime | None = None, end: datetime | None = None,
                     max_cloud_cover: float | None = None, max_incidence_angle: float | None = None
                     ) -> tuple[DeliveredOffer, ...]:
    """The delivered STAC ``items`` worth offering for ``aoi``: within the constraints (checked again
    here, whatever the catalogue filtered), covering some of it; the largest coverage first, then the
    most recent; at most ``limit``."""
    area = shape(aoi)
    total = area_km2(area)
    offers = []
    for item in items:
        when = _when(item)
        cloud, incidence = _number(item, "eo:cloud_cover"), _number(item, "view:incidence_angle")
        if when is None or not item.get("geometry") or (start is not None and when < start) or \
                (end is not None and when > end):
            continue
        if max_cloud_cover is not None and (cloud is None or cloud > max_cloud_cover):
            continue
        if max_incidence_angle is not None and (incidence is None or incidence > max_incidence_angle):
            continue
        share = coverage(area, total, shape(item["geometry"]))
        if share < MIN_SHARE:
            continue
        offers.append(DeliveredOffer(item_id=str(item["id"]), collection=str(item.get("collection", "")),
                                     acquired_at=when, coverage=round(share, 4), cloud_cover=cloud,
                                     incidence_angle=incidence))
    offers.sort(key=lambda o: (-o.coverage, -o.acquired_at.timestamp(), o.item_id))
    return tuple(offers[:limit])


def windows_overlap(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    return start < other_end and other_start < end


def join_offers(aoi: Mapping[str, Any], start: datetime, end: datetime, pending: Iterable[Any], limit: int,
                exclude: str | None = None) -> tuple[JoinOffer, ...]:
    """The pending taskings (``PendingTasking``-like: request_id, aoi, window_start, window_end, mode)
    whose window overlaps [start, end] and whose area shares some km² with ``aoi``: the largest overlap
    first, then the earliest window; at most ``limit``; ``exclude`` (the request itself) never."""
    area = shape(aoi)
    total = area_km2(area)
    offers: dict[str, JoinOffer] = {}
    for p in pending:
        if p.request_id == exclude or p.request_id in offers or \
                not windows_overlap(start, end, p.window_start, p.window_end):
            continue
        other = shape(p.aoi)
        if not area.intersects(other):
            continue
        shared = area_km2(area.intersection(other))
        if total <= 0 or shared / total < MIN_SHARE:
            continue
        offers[p.request_id] = JoinOffer(request_id=p.request_id, overlap_km2=round(shared, 3),
                                         window_start=p.window_start, window_end=p.window_end, mode=p.mode)
    ranked = sorted(offers.values(), key=lambda o: (-o.overlap_km2, o.window_start, o.request_id))
    return tuple(ranked[:limit])
