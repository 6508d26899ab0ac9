"""The delivery package of a delivered order, read back as the platform will: the zip's three files, the
DIMAP v2 fields, the image (a valid Cloud-Optimised GeoTIFF over the ordered area) and the quicklook."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_validate


def delivered(airbus, mission):
    order = airbus.http.post("/api/v1/orders", json=airbus.archive("req-p", mission=mission)).json()
    airbus.advance(60)
    response = airbus.http.get(f"/api/v1/orders/{order['id']}/delivery")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    return order, zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.parametrize(("mission", "platforms", "bands", "gsd"), [
    ("PLEIADES", {("PHR", "1A")}, ["B0", "B1", "B2", "B3", "P"], 0.5),
    ("SPOT", {("SPOT", "6"), ("SPOT", "7")}, ["P"], 1.5),
])
def test_the_package_holds_dimap_metadata_a_valid_cog_over_the_ordered_area_and_a_quicklook(
        airbus, tmp_path, mission, platforms, bands, gsd):
    order, package = delivered(airbus, mission)
    stem = f"{mission}_{order['id']}"
    assert sorted(package.namelist()) == sorted([f"DIM_{stem}.XML", f"IMG_{stem}.tif", f"PREVIEW_{stem}.png"])

    dimap = ET.fromstring(package.read(f"DIM_{stem}.XML"))  # noqa: S314 - the simulator's own file
    assert dimap.findtext("Metadata_Identification/METADATA_FORMAT") == "DIMAP"
    assert dimap.find("Metadata_Identification/METADATA_FORMAT").get("version") == "2.0"
    assert order["id"] in dimap.findtext("Dataset_Identification/DATASET_NAME")
    strip = dimap.find("Dataset_Sources/Source_Identification/Strip_Source")
    assert (strip.findtext("MISSION"), strip.findtext("MISSION_INDEX")) in platforms
    assert strip.findtext("IMAGING_DATE") and strip.findtext("IMAGING_TIME")
    vertices = [(float(v.findtext("LON")), float(v.findtext("LAT")))
                for v in dimap.findall("Dataset_Content/Dataset_Extent/Vertex")]
    assert vertices == [tuple(p) for p in airbus.aoi["coordinates"][0][:-1]]  # the ordered area
    assert 0 <= float(dimap.findtext("Dataset_Content/CLOUD_COVERAGE")) <= 10
    values = dimap.find("Geometric_Data/Use_Area/Located_Geometric_Values")
    assert 0 <= float(values.findtext("Acquisition_Angles/INCIDENCE_ANGLE")) <= 30
    assert 0 <= float(values.findtext("Acquisition_Angles/AZIMUTH_ANGLE")) < 360
    assert 0 <= float(values.findtext("Solar_Incidences/SUN_AZIMUTH")) < 360
    assert 0 < float(values.findtext("Solar_Incidences/SUN_ELEVATION")) <= 90  # imaged by day (10:30 solar)
    assert float(values.findtext("Ground_Sample_Distance/GSD_ACROSS_TRACK")) == gsd
    assert dimap.findtext("Processing_Information/Product_Settings/PROCESSING_LEVEL") == "ORTHO"
    assert dimap.findtext("Coordinate_Reference_System/Projected_CRS/PROJECTED_CRS_CODE") == \
        "urn:ogc:def:crs:EPSG::32631"
    assert [b.findtext("BAND_ID") for b in dimap.iter("Band_Spectral_Range")] == bands
    assert dimap.find("Raster_Data/Data_Access/Data_Files/Data_File/DATA_FILE_PATH").get("href") == \
        f"IMG_{stem}.tif"

    image = tmp_path / "image.tif"
    image.write_bytes(package.read(f"IMG_{stem}.tif"))
    with rasterio.open(image) as cog:
        assert cog.count == len(bands) and list(cog.descriptions) == bands
        assert 100 <= max(cog.width, cog.height) <= 256  # scaled down to a few hundred pixels
        assert cog.crs.to_epsg() == 32631 and cog.nodata == 0
        assert (cog.height, cog.width) == (int(dimap.findtext("Raster_Data/Raster_Dimensions/NROWS")),
                                           int(dimap.findtext("Raster_Data/Raster_Dimensions/NCOLS")))
        west, south, east, north = transform_bounds(cog.crs, "EPSG:4326", *cog.bounds)
        assert west <= 1.40 + 1e-3 and south <= 43.55 + 1e-3 and east >= 1.50 - 1e-3 and north >= 43.62 - 1e-3
        pixels = cog.read(1)
        assert pixels[pixels.shape[0] // 2, pixels.shape[1] // 2] > 0  # inside the footprint: data
    valid, errors, _ = cog_validate(str(image), quiet=True)
    assert valid and not errors

    with MemoryFile(package.read(f"PREVIEW_{stem}.png")) as memory, memory.open() as png:
        assert png.driver == "PNG" and png.count == 3 and png.dtypes[0] == "uint8"


def test_there_is_no_package_before_delivery(airbus):
    order = airbus.http.post("/api/v1/orders", json=airbus.archive()).json()
    early = airbus.http.get(f"/api/v1/orders/{order['id']}/delivery")
    assert early.status_code == 409 and early.json()["error"] == "not_delivered"


def test_the_same_order_gets_the_same_package_twice(airbus):
    order = airbus.http.post("/api/v1/orders", json=airbus.archive()).json()
    airbus.advance(60)
    first = airbus.http.get(f"/api/v1/orders/{order['id']}/delivery").content
    assert airbus.http.get(f"/api/v1/orders/{order['id']}/delivery").content == first


def test_a_multipolygon_tasking_has_one_extent_per_polygon_and_one_image_over_both(airbus):
    second = [[[1.60, 43.55], [1.65, 43.55], [1.65, 43.60], [1.60, 43.60], [1.60, 43.55]]]
    body = airbus.tasking()
    body["aoi"] = {"type": "MultiPolygon", "coordinates": [airbus.aoi["coordinates"], second]}
    order = airbus.http.post("/api/v1/orders", json=body)
    assert order.status_code == 201, order.text
    airbus.advance(300)
    response = airbus.http.get(f"/api/v1/orders/{order.json()['id']}/delivery")
    package = zipfile.ZipFile(io.BytesIO(response.content))
    name = next(n for n in package.namelist() if n.startswith("DIM_"))
    dimap = ET.fromstring(package.read(name))  # noqa: S314 - the simulator's own file
    extents = [[(float(v.findtext("LON")), float(v.findtext("LAT"))) for v in e.iter("Vertex")]
               for e in dimap.iter("Dataset_Extent")]
    assert extents == [[tuple(p) for p in airbus.aoi["coordinates"][0][:-1]], [tuple(p) for p in second[0][:-1]]]
    with MemoryFile(package.read(name.replace("DIM_", "IMG_").replace(".XML", ".tif"))) as memory, \
            memory.open() as cog:
        west, _, east, _ = transform_bounds(cog.crs, "EPSG:4326", *cog.bounds)
        assert west <= 1.40 + 1e-3 and east >= 1.65 - 1e-3
