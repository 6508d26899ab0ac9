"""From the HTTP body to a checked :class:`RequestSpec`: what a quote prices and a submission stores
(both call :func:`build_spec`, so a quote and the request it leads to are measured the same way).

Archive: the scenes are looked up in the catalogue's ``airbus-archive`` collection over HTTP; each
must exist, be of the request's mission, appear once, and its clip (when given) must overlap it; the
scene asked for is the footprint ∩ clip, at least the minimum area and width; the request's area is
the sum of the scenes' geodesic areas and its ``aoi`` their union. Tasking: the area and the window
against the rules in force. Everything the body alone can refuse is refused before the catalogue is
asked; a catalogue that does not answer raises :class:`UpstreamUnavailable` (503, nothing stored)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from requests_service.domain.aoi import check_area, check_size, check_window, geodesic_area_km2, to_geojson
from requests_service.domain.errors import InvalidScenes, UpstreamUnavailable
from requests_service.domain.rules import IntakeRules
from requests_service.domain.spec import RequestSpec, Scene, Tasking
from requests_service.service_layer.context import Requests

# the platforms of the catalogue's airbus-archive items, by the mission a request names
MISSION_OF_PLATFORM = {"pleiades-1a": "pleiades", "pleiades-1b": "pleiades", "spot-6": "spot-6-7",
                       "spot-7": "spot-6-7"}


def _plain(body: Any) -> dict[str, Any]:
    """The body as plain JSON data (a pydantic model, ``schemas.RequestCreate``, is dumped)."""
    if isinstance(body, Mapping):
        return dict(body)
    from_schema = getattr(body, "model_dump", None)
    if from_schema is None:
        raise TypeError(f"a request body is a mapping or a pydantic model, not {type(body).__name__}")
    return from_schema(mode="json", exclude_none=True)


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def build_spec(ctx: Requests, body: Any) -> RequestSpec:
    """The checked spec of ``body`` (the JSON of POST /api/requests), or a domain error saying what to change."""
    data = _plain(body)
    now = ctx.clock()
    rules = ctx.rules(now.date())
    common = {"title": data["title"], "mission": data["mission"], "justification": data.get("justification", ""),
              "funding_reference": data.get("funding_reference")}
    if data["kind"] == "tasking":
        area = check_area(data["aoi"], rules, "aoi")
        t = data["tasking"]
        start, end = _when(t["window"]["start"]), _when(t["window"]["end"])
        check_window(start, end, now, rules)
        tasking = Tasking(window_start=start, window_end=end, max_cloud_cover=float(t["max_cloud_cover"]),
                          max_incidence_angle=float(t["max_incidence_angle"]), mode=t.get("mode", "mono"),
                          priority=t.get("priority", "standard"))
        return RequestSpec(kind="tasking", aoi=area.geojson, area_km2=area.area_km2, tasking=tasking, **common)
    scenes = await _archive_scenes(ctx, data["archive"]["scenes"], data["mission"], rules)
    union = unary_union([shape(s.aoi) for s in scenes])
    return RequestSpec(kind="archive", aoi=to_geojson(union), area_km2=round(sum(s.area_km2 for s in scenes), 3),
                       scenes=tuple(scenes), **common)


async def _archive_scenes(ctx: Requests, asked: list[dict[str, Any]], mission: str,
                          rules: IntakeRules) -> list[Scene]:
    if len(asked) > rules.max_scenes:
        raise InvalidScenes(f"archive.scenes has {len(asked)} scenes; at most {rules.max_scenes} per request "
                            "(one Airbus order): split it into several requests")
    ids = [s["item_id"] for s in asked]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        raise InvalidScenes(f"archive.scenes names {', '.join(repeated)} more than once: give each scene once "
                            "(with one aoi covering all you want of it)")
    clips = [check_area(s["aoi"], rules, f"archive.scenes[{n}].aoi", minimum=False) if s.get("aoi") else None
             for n, s in enumerate(asked)]
    if ctx.catalogue is None:
        raise UpstreamUnavailable("the catalogue is not configured for this service")
    items = await ctx.catalogue.archive_items(ids)
    if unknown := [i for i in ids if i not in items]:
        raise InvalidScenes(f"archive.scenes: no airbus-archive scene {', '.join(unknown)} in the catalogue: "
                            "pick scenes from the catalogue's airbus-archive collection")
    scenes = []
    for n, (item_id, clip) in enumerate(zip(ids, clips, strict=True)):
        item = items[item_id]
        props = item.get("properties") or {}
        platform = props.get("platform")
        if MISSION_OF_PLATFORM.get(str(platform)) != mission:
            raise InvalidScenes(f"archive.scenes[{n}]: {item_id} was acquired by {platform}, not by {mission}: "
                                "pick scenes of the request's mission or change its mission")
        footprint = shape(item["geometry"])
        wanted: BaseGeometry = footprint if clip is None else _polygonal(footprint.intersection(clip.geometry))
        where = f"archive.scenes[{n}] ({item_id})"
        if wanted.is_empty:
            raise InvalidScenes(f"{where}: its aoi does not overlap the scene: draw the aoi inside the scene's "
                                "footprint")
        area = geodesic_area_km2(wanted)
        check_size(wanted, area, rules, f"{where} clipped to its aoi" if clip else where)
        acquired = props.get("datetime")
        scenes.append(Scene(item_id=item_id, aoi=to_geojson(wanted), area_km2=round(area, 3),
                            acquired_at=_when(acquired) if acquired else None, platform=platform))
    return scenes


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of an intersection (a clip touching the footprint's edge adds lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    return unary_union([g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")])
