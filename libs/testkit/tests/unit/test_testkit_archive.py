"""The test kit's request bodies: an archive request clipped inside its scene, big enough for the
intake and small enough for the free quota; a tasking window the intake accepts; the known scenes
as STAC items the catalogue ingests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely
from dinamis_testkit.archive import ARCHIVE_SCENES, archive_request, archive_scene, tasking_request
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def km2(geojson: dict) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.shape(geojson))[0]) / 1e6


@pytest.mark.parametrize("scene", ARCHIVE_SCENES, ids=lambda s: s.id)
def test_a_3_km_clip_lies_in_its_scene_above_the_minimum_and_within_the_free_quota(scene):
    body = archive_request(scene, title="Dunes")
    assert body["kind"] == "archive" and body["mission"] == scene.mission and body["justification"]
    [picked] = body["archive"]["scenes"]
    assert picked["item_id"] == scene.id
    clip, footprint = shapely.geometry.shape(picked["aoi"]), shapely.geometry.shape(scene.footprint)
    assert footprint.contains(clip) and clip.is_valid
    assert 8.5 < km2(picked["aoi"]) < 9.5  # ≥ 5 km² and ≥ 1 km wide; far below 500 km² free
    assert 0.8 * scene.km**2 < km2(scene.footprint) < 1.2 * scene.km**2


def test_clips_can_be_moved_enlarged_or_dropped_and_scenes_combined():
    a, b = archive_scene("pleiades", 0), archive_scene("pleiades", 1)
    moved = archive_request(a, clip_km=3, offset_km=(5, -5))["archive"]["scenes"][0]["aoi"]
    assert shapely.geometry.shape(a.footprint).contains(shapely.geometry.shape(moved))
    assert shapely.geometry.shape(moved).centroid.x > a.lon
    assert 390 < km2(archive_request(a, clip_km=20)["archive"]["scenes"][0]["aoi"]) < 410
    both = archive_request([a, b], clip_km=None, funding_reference="ANR-22-XXXX")
    assert both["archive"]["scenes"] == [{"item_id": a.id}, {"item_id": b.id}]
    assert both["funding_reference"] == "ANR-22-XXXX"
    assert archive_scene("spot-6-7").platform.startswith("spot")


def test_a_tasking_window_starts_three_days_ahead_by_default_and_lasts_the_days_given():
    aoi = archive_scene().footprint
    body = tasking_request(aoi, days=10, mode="stereo", priority="urgent")
    window = body["tasking"]["window"]
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    assert timedelta(days=2) < start - datetime.now(UTC) < timedelta(days=3, minutes=1)
    assert end - start == timedelta(days=10)
    assert (body["kind"], body["aoi"], body["tasking"]["mode"], body["tasking"]["priority"]) == (
        "tasking", aoi, "stereo", "urgent")


def test_the_known_scenes_are_airbus_archive_items_of_distinct_ids_whose_platform_gives_the_mission():
    items = [s.stac_item() for s in ARCHIVE_SCENES]
    assert len({i["id"] for i in items}) == len(items)
    assert {i["collection"] for i in items} == {"airbus-archive"}
    assert {(s.platform, s.mission) for s in ARCHIVE_SCENES} == {
        ("pleiades-1a", "pleiades"), ("pleiades-1b", "pleiades"), ("spot-6", "spot-6-7"), ("spot-7", "spot-6-7")}
    assert all(shapely.geometry.shape(i["geometry"]).is_valid for i in items)
