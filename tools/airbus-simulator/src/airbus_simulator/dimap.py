"""DIMAP v2 metadata of a delivered product, in the element names and places of Airbus's DIMAP v2 products
(the subset the platform reads; docs/airbus-api.md lists each path)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from airbus_simulator.clock import iso
from airbus_simulator.imagery import Grid

MISSION_INDEX = {"PHR": ("PHR", "1A"), "SPOT6": ("SPOT", "6"), "SPOT7": ("SPOT", "7")}


@dataclass(frozen=True)
class Product:
    dataset_id: str
    order_id: str
    customer_reference: str | None
    platform: str  # PHR | SPOT6 | SPOT7
    acquired_at: datetime
    footprint: list[list[tuple[float, float]]]  # lon/lat rings: the ordered area
    cloud_cover: float
    incidence: float
    azimuth: float
    gsd: float
    processing_level: str
    grid: Grid
    bands: list[tuple[str, tuple[float, float], float]]
    image: str  # the image file's name in the package


def sun_angles(t: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Approximate solar azimuth and elevation in degrees (good to a degree or so: a simulation)."""
    t = t.astimezone(UTC)
    day = t.timetuple().tm_yday
    declination = math.radians(-23.44 * math.cos(math.radians(360 / 365 * (day + 10))))
    solar_hours = t.hour + t.minute / 60 + t.second / 3600 + lon / 15
    hour_angle = math.radians(15 * (solar_hours - 12))
    phi = math.radians(lat)
    sin_el = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(declination) * math.cos(hour_angle)
    elevation = math.asin(max(-1.0, min(1.0, sin_el)))
    azimuth = math.atan2(-math.sin(hour_angle),
                         math.tan(declination) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle))
    return (math.degrees(azimuth) % 360, math.degrees(elevation))


def _add(parent: ET.Element, tag: str, text: object | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, tag, attrs)
    if text is not None:
        e.text = f"{text:.6f}".rstrip("0").rstrip(".") if isinstance(text, float) else str(text)
    return e


def document(p: Product) -> bytes:
    mission, index = MISSION_INDEX[p.platform]
    root = ET.Element("Dimap_Document", {"name": f"DIM_{p.dataset_id}.XML"})
    ident = _add(root, "Metadata_Identification")
    _add(ident, "METADATA_FORMAT", "DIMAP", version="2.0")
    _add(ident, "METADATA_PROFILE", f"{'PHR' if mission == 'PHR' else 'S6'}_ORTHO")
    _add(ident, "METADATA_SUBPROFILE", "PRODUCT")
    _add(ident, "METADATA_LANGUAGE", "en")
    dataset = _add(root, "Dataset_Identification")
    _add(dataset, "DATASET_NAME", p.dataset_id, version="1.0")
    _add(dataset, "DATASET_TYPE", "RASTER")
    content = _add(root, "Dataset_Content")
    for ring in p.footprint:  # one extent per polygon of the ordered area; vertices without the closing one
        extent = _add(content, "Dataset_Extent")
        _add(extent, "EXTENT_TYPE", "Polygon")
        for lon, lat in ring[:-1]:
            vertex = _add(extent, "Vertex")
            _add(vertex, "LON", float(lon))
            _add(vertex, "LAT", float(lat))
    _add(content, "CLOUD_COVERAGE", round(p.cloud_cover, 2), unit="percent")
    _add(content, "SNOW_COVERAGE", 0.0, unit="percent")
    info = _add(root, "Product_Information")
    delivery = _add(info, "Delivery_Identification")
    _add(delivery, "JOB_ID", p.order_id)
    _add(delivery, "PRODUCT_TYPE", "IMAGERY")
    _add(delivery, "PRODUCTION_DATE", iso(p.acquired_at))
    order = _add(delivery, "Order_Identification")
    _add(order, "CUSTOMER_REFERENCE", p.customer_reference or "")
    _add(order, "COMMERCIAL_REFERENCE", p.order_id)
    crs = _add(root, "Coordinate_Reference_System")
    projected = _add(crs, "Projected_CRS")
    _add(projected, "PROJECTED_CRS_NAME", f"WGS 84 / UTM zone {p.grid.epsg % 100}{'N' if p.grid.epsg < 32700 else 'S'}")
    _add(projected, "PROJECTED_CRS_CODE", f"urn:ogc:def:crs:EPSG::{p.grid.epsg}")
    processing = _add(_add(root, "Processing_Information"), "Product_Settings")
    _add(processing, "PROCESSING_LEVEL", p.processing_level)
    _add(processing, "SPECTRAL_PROCESSING", "PMS-N" if mission == "PHR" else "P")
    raster = _add(root, "Raster_Data")
    access = _add(raster, "Data_Access")
    _add(access, "DATA_FILE_FORMAT", "image/tiff;subtype=cog")
    _add(_add(_add(access, "Data_Files"), "Data_File"), "DATA_FILE_PATH", href=p.image)
    dims = _add(raster, "Raster_Dimensions")
    _add(dims, "NROWS", p.grid.height)
    _add(dims, "NCOLS", p.grid.width)
    _add(dims, "NBANDS", len(p.bands))
    display = _add(raster, "Raster_Display")
    for i, (band, _, _) in enumerate(p.bands, start=1):
        _add(display, "BAND_INDEX", i, band_id=band)
    measurements = _add(_add(_add(_add(root, "Radiometric_Data"), "Radiometric_Calibration"),
                             "Instrument_Calibration"), "Band_Measurement_List")
    for band, (low, high), gsd in p.bands:
        spectral = _add(measurements, "Band_Spectral_Range")
        _add(spectral, "BAND_ID", band)
        _add(spectral, "MEASURE_UNIT", "micrometer")
        _add(spectral, "MIN", low)
        _add(spectral, "MAX", high)
        _add(spectral, "GSD", gsd, unit="m")
    points = [pt for r in p.footprint for pt in r[:-1]]
    lon, lat = sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
    sun_azimuth, sun_elevation = sun_angles(p.acquired_at, lon, lat)
    values = _add(_add(_add(root, "Geometric_Data"), "Use_Area"), "Located_Geometric_Values")
    _add(values, "LOCATION_TYPE", "Center")
    _add(values, "TIME", iso(p.acquired_at))
    angles = _add(values, "Acquisition_Angles")
    _add(angles, "INCIDENCE_ANGLE", round(p.incidence, 3), unit="deg")
    _add(angles, "AZIMUTH_ANGLE", round(p.azimuth, 3), unit="deg")
    _add(angles, "VIEWING_ANGLE", round(p.incidence * 0.9, 3), unit="deg")
    sun = _add(values, "Solar_Incidences")
    _add(sun, "SUN_AZIMUTH", round(sun_azimuth, 3), unit="deg")
    _add(sun, "SUN_ELEVATION", round(sun_elevation, 3), unit="deg")
    gsd = _add(values, "Ground_Sample_Distance")
    _add(gsd, "GSD_ACROSS_TRACK", p.gsd, unit="m")
    _add(gsd, "GSD_ALONG_TRACK", p.gsd, unit="m")
    strip = _add(_add(_add(root, "Dataset_Sources"), "Source_Identification"), "Strip_Source")
    _add(strip, "MISSION", mission)
    _add(strip, "MISSION_INDEX", index)
    _add(strip, "INSTRUMENT", "PHR" if mission == "PHR" else "NAOMI")
    _add(strip, "INSTRUMENT_INDEX", index)
    _add(strip, "IMAGING_DATE", p.acquired_at.astimezone(UTC).date().isoformat())
    _add(strip, "IMAGING_TIME", p.acquired_at.astimezone(UTC).strftime("%H:%M:%S.%fZ"))
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
