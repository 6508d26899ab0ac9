"""The DIMAP v2 reader on packages built by the Airbus simulator's own code (a Pléiades archive of two
scenes, a SPOT 6/7 tasking): the STAC item the catalogue receives, and what a damaged package says."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest
from airbus_simulator.orders import Order, platform
from airbus_simulator.package import build
from provisioning_service.adapters import dimap
from provisioning_service.domain.delivery import InvalidDelivery

CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
A = [[3.80, 43.55], [3.90, 43.55], [3.90, 43.62], [3.80, 43.62], [3.80, 43.55]]
B = [[3.92, 43.55], [3.98, 43.55], [3.98, 43.60], [3.92, 43.60], [3.92, 43.55]]
HREFS = {r: f"s3://deliveries/pleiades/r1/{r}" for r in ("metadata", "image", "quicklook")}


def simulated(tmp_path, kind: str, mission: str) -> bytes:
    body = ({"items": [{"scene_id": "S1", "aoi": {"type": "Polygon", "coordinates": [A]}},
                       {"scene_id": "S2", "aoi": {"type": "Polygon", "coordinates": [B]}}]} if kind == "archive"
            else {"aoi": {"type": "Polygon", "coordinates": [A]}, "max_cloud_cover": 20.0, "max_incidence_angle": 25.0})
    oid = f"ORD-{kind}"
    order = Order(oid, "r1", kind, mission, platform(mission, oid), CREATED, "100.00", 60.0, 60.0,
                  {"customer_reference": "r1", "kind": kind, "mission": mission, **body},
                  {"received": 1.0, "attempt": 1.0, "production": 1.0},
                  [{"outcome": "acquired", "coverage_percent": 100.0}] if kind == "tasking" else [])
    return build(order, tmp_path).read_bytes()


def item_of(package: bytes, collection: str = "pleiades") -> dict:
    files = dimap.unpack(package)
    return dimap.stac_item(dimap.read(files["metadata"].data), HREFS, request_id="r1", order_id="o1",
                           collection=collection)


def test_a_pleiades_archive_of_two_scenes_becomes_one_item_with_both_footprints(tmp_path):
    package = simulated(tmp_path, "archive", "PLEIADES")
    assert sorted(dimap.unpack(package)) == ["image", "metadata", "quicklook"]
    item = item_of(package)
    props = item["properties"]
    assert item["id"].startswith("DS_PHR_") and item["collection"] == "pleiades"
    assert item["geometry"] == {"type": "MultiPolygon", "coordinates": [[A], [B]]}
    assert item["bbox"] == [3.80, 43.55, 3.98, 43.62]
    assert (props["platform"], props["constellation"], props["sat:platform_international_designator"]) == (
        "pleiades-1a", "pleiades", "2011-076F")
    assert (props["processing:level"], props["proj:code"], props["gsd"]) == ("ORTHO", "EPSG:32631", 0.5)
    assert 0 <= props["eo:cloud_cover"] <= 10 and 0 < props["view:incidence_angle"] <= 30
    assert {"view:azimuth", "view:sun_azimuth", "view:sun_elevation", "datetime"} <= set(props)
    assert (props["dinamis:request_id"], props["license"]) == ("r1", "proprietary")
    assert {k: (a["href"], a["roles"]) for k, a in item["assets"].items()} == {
        "image": (HREFS["image"], ["data"]), "metadata": (HREFS["metadata"], ["metadata"]),
        "quicklook": (HREFS["quicklook"], ["overview"])}
    assert {b["name"] for b in item["assets"]["image"]["eo:bands"]} == {"B0", "B1", "B2", "B3", "P"}
    assert any(e.startswith("https://stac-extensions.github.io/sat/") for e in item["stac_extensions"])


def test_a_spot_tasking_is_read_as_spot_6_or_7(tmp_path):
    item = item_of(simulated(tmp_path, "tasking", "SPOT"), "spot-6-7")
    assert item["properties"]["platform"] in ("spot-6", "spot-7")
    assert item["properties"]["gsd"] == pytest.approx(1.5, abs=0.5)
    assert item["geometry"] == {"type": "Polygon", "coordinates": [A]}


def test_a_simulated_package_without_its_acquisition_time_names_what_is_missing(tmp_path):
    package = simulated(tmp_path, "archive", "PLEIADES")
    files = dimap.unpack(package)
    xml = files["metadata"].data.decode()
    start, end = xml.index("<TIME>"), xml.index("</TIME>") + len("</TIME>")
    xml = xml[:start] + xml[end:]
    xml = xml.replace("<IMAGING_DATE>", "<X>").replace("</IMAGING_DATE>", "</X>")
    with pytest.raises(InvalidDelivery, match=r"lacks TIME \(acquisition\)"):
        dimap.read(xml.encode())


def test_a_truncated_zip_or_a_document_with_entities_is_refused(tmp_path):
    package = simulated(tmp_path, "archive", "PLEIADES")
    with pytest.raises(InvalidDelivery, match="not a readable zip"):
        dimap.unpack(package[: len(package) // 3])
    with pytest.raises(InvalidDelivery, match="DOCTYPE or entities"):
        dimap.read(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Dimap_Document>&a;</Dimap_Document>')
    assert zipfile.is_zipfile(tmp_path / "ORD-archive.zip")
