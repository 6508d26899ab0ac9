"""The Airbus product package (docs/airbus-api.md "Orders", delivery): a zip with a DIMAP v2 XML
(``DIM_*.XML``), a Cloud-Optimised GeoTIFF (``IMG_*.tif``) and a quicklook (``PREVIEW_*.png``), read
into a STAC item with pystac (eo, view, projection, processing and sat fields, the footprint, the three
assets with their ``s3://`` hrefs).

Fields are found by their DIMAP v2 tag names wherever they sit in the document (Pléiades and SPOT 6/7
share the layout). The dataset name, the platform, the acquisition time and the footprint are required:
without one of them the package raises :class:`InvalidDelivery` saying which."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pystac
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.sat import OrbitState, SatExtension
from pystac.extensions.view import ViewExtension

from provisioning_service.domain.delivery import LICENCE, InvalidDelivery, ProductFile

PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
MEDIA = {"metadata": "application/xml", "image": pystac.MediaType.COG, "quicklook": pystac.MediaType.PNG}
PREFIXES = {"DIM_": "metadata", "IMG_": "image", "PREVIEW_": "quicklook"}
SUFFIXES = {"metadata": (".xml",), "image": (".tif", ".tiff"), "quicklook": (".png", ".jpg")}
# platform (lower case) -> COSPAR designator
DESIGNATORS = {"pleiades-1a": "2011-076F", "pleiades-1b": "2012-068A", "spot-6": "2012-047A", "spot-7": "2014-034A"}
PLATFORMS = {"PHR": "pleiades", "PLEIADES": "pleiades", "SPOT": "spot"}
# the bands' usual names and centre wavelengths (µm) when the DIMAP gives none
BAND_NAMES = {"P": "pan", "B0": "blue", "B1": "green", "B2": "red", "B3": "nir"}


@dataclass(frozen=True)
class Dimap:
    dataset_id: str
    platform: str
    acquired_at: datetime
    footprint: list[list[tuple[float, float]]]  # rings of (lon, lat), closed: one per polygon of the area
    instrument: str | None = None
    cloud_cover: float | None = None
    incidence_angle: float | None = None
    azimuth: float | None = None
    sun_azimuth: float | None = None
    sun_elevation: float | None = None
    gsd: float | None = None
    processing_level: str | None = None
    epsg: int | None = None
    orbit_state: str | None = None
    bands: list[dict[str, Any]] = field(default_factory=list)


def unpack(package: bytes) -> dict[str, ProductFile]:
    """The package's metadata, image and quicklook files, by role."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            files: dict[str, ProductFile] = {}
            for info in z.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                role = next((r for p, r in PREFIXES.items() if name.upper().startswith(p)), None)
                if info.is_dir() or role is None or not name.lower().endswith(SUFFIXES[role]) or role in files:
                    continue
                files[role] = ProductFile(role, name, z.read(info), MEDIA[role])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise InvalidDelivery(f"the package is not a readable zip: {exc}") from exc
    missing = [r for r in PREFIXES.values() if r not in files]
    if missing:
        raise InvalidDelivery(f"the package has no {' and no '.join(missing)} file")
    return files


def read(xml: bytes) -> Dimap:
    """The fields of a DIMAP v2 document the item needs."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:  # DIMAP declares none: no entity expansion to abuse
        raise InvalidDelivery("the DIMAP metadata declares a DOCTYPE or entities, refused")
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 (no DOCTYPE, no entities: checked above)
    except ElementTree.ParseError as exc:
        raise InvalidDelivery(f"the DIMAP metadata is not XML: {exc}") from exc
    _strip_namespaces(root)
    missing: list[str] = []
    dataset = _text(root, "DATASET_NAME") or _text(root, "DATASET_ID")
    if not dataset:
        missing.append("DATASET_NAME")
    platform = _platform(root)
    if not platform:
        missing.append("MISSION")
    acquired_at = _time(root)
    if acquired_at is None:
        missing.append("TIME (acquisition)")
    footprint = _footprint(root)
    if not footprint:
        missing.append("Dataset_Extent (footprint vertices)")
    if missing:
        raise InvalidDelivery(f"the DIMAP metadata lacks {', '.join(missing)}")
    assert dataset and platform and acquired_at
    across, along = _number(root, "GSD_ACROSS_TRACK"), _number(root, "GSD_ALONG_TRACK")
    gsd = (across + along) / 2 if across is not None and along is not None else across or along
    orbit = (_text(root, "ORBIT_DIRECTION") or "").lower() or None
    return Dimap(dataset_id=dataset, platform=platform, acquired_at=acquired_at, footprint=footprint,
                 instrument=_text(root, "INSTRUMENT"), cloud_cover=_number(root, "CLOUD_COVERAGE"),
                 incidence_angle=_number(root, "INCIDENCE_ANGLE"), azimuth=_number(root, "AZIMUTH_ANGLE"),
                 sun_azimuth=_number(root, "SUN_AZIMUTH"), sun_elevation=_number(root, "SUN_ELEVATION"), gsd=gsd,
                 processing_level=_text(root, "PROCESSING_LEVEL"), epsg=_epsg(root), orbit_state=orbit,
                 bands=_bands(root))


def stac_item(d: Dimap, hrefs: dict[str, str], *, request_id: str, order_id: str, collection: str) -> dict[str, Any]:
    """The STAC item of a delivered product (``hrefs``: role -> ``s3://`` URL of its stored file)."""
    lons, lats = [p[0] for r in d.footprint for p in r], [p[1] for r in d.footprint for p in r]
    polygons = [[[list(p) for p in ring]] for ring in d.footprint]
    geometry = ({"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1
                else {"type": "MultiPolygon", "coordinates": polygons})
    props: dict[str, Any] = {"platform": d.platform, "constellation": d.platform.rsplit("-", 1)[0],
                             "license": LICENCE, "dinamis:request_id": request_id, "dinamis:order_id": order_id}
    if d.instrument:
        props["instruments"] = [d.instrument.lower()]
    if d.gsd is not None:
        props["gsd"] = d.gsd
    item = pystac.Item(id=d.dataset_id, geometry=geometry, bbox=[min(lons), min(lats), max(lons), max(lats)],
                       datetime=d.acquired_at, properties=props, collection=collection)
    item.add_asset("image", pystac.Asset(hrefs["image"], title="Cloud-Optimised GeoTIFF", media_type=MEDIA["image"],
                                         roles=["data"]))
    item.add_asset("metadata", pystac.Asset(hrefs["metadata"], title="DIMAP v2 metadata",
                                            media_type=MEDIA["metadata"], roles=["metadata"]))
    item.add_asset("quicklook", pystac.Asset(hrefs["quicklook"], title="Quicklook", media_type=MEDIA["quicklook"],
                                             roles=["overview"]))
    eo = EOExtension.ext(item, add_if_missing=True)
    if d.cloud_cover is not None:
        eo.cloud_cover = d.cloud_cover
    if d.bands:
        EOExtension.ext(item.assets["image"]).bands = [Band.create(**b) for b in d.bands]
    view = ViewExtension.ext(item, add_if_missing=True)
    view.incidence_angle, view.azimuth = d.incidence_angle, d.azimuth
    view.sun_azimuth, view.sun_elevation = d.sun_azimuth, d.sun_elevation
    if d.epsg is not None:
        ProjectionExtension.ext(item, add_if_missing=True).epsg = d.epsg
    sat = SatExtension.ext(item, add_if_missing=True)
    # Pléiades and SPOT 6/7 are sun-synchronous and image on their descending (day-time) pass
    orbit = d.orbit_state if d.orbit_state in ("ascending", "descending") else "descending"
    sat.orbit_state = OrbitState(orbit)
    if d.platform in DESIGNATORS:
        sat.platform_international_designator = DESIGNATORS[d.platform]
    if d.processing_level:
        item.stac_extensions.append(PROCESSING_SCHEMA)
        item.properties["processing:level"] = d.processing_level
    return item.to_dict(include_self_link=False, transform_hrefs=False)


# -- reading the XML -------------------------------------------------------------------------------
def _strip_namespaces(root: ElementTree.Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def _text(root: ElementTree.Element, tag: str) -> str | None:
    el = root.find(f".//{tag}")
    return el.text.strip() if el is not None and el.text and el.text.strip() else None


def _number(root: ElementTree.Element, tag: str) -> float | None:
    value = _text(root, tag)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _platform(root: ElementTree.Element) -> str | None:
    mission = (_text(root, "MISSION") or "").upper()
    family = PLATFORMS.get(mission)
    if family is None:
        return None
    index = (_text(root, "MISSION_INDEX") or "").strip().lower()
    return f"{family}-{index}" if index else family


def _time(root: ElementTree.Element) -> datetime | None:
    value = _text(root, "TIME")
    if value is None and (date := _text(root, "IMAGING_DATE")):
        value = f"{date}T{_text(root, 'IMAGING_TIME') or '00:00:00'}"
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _footprint(root: ElementTree.Element) -> list[list[tuple[float, float]]]:
    """One closed ring per ``Dataset_Extent`` (a product of several polygons has several); none when any
    extent is unreadable (fewer than 3 vertices, a coordinate missing or out of range)."""
    rings: list[list[tuple[float, float]]] = []
    for extent in root.iter("Dataset_Extent"):
        points: list[tuple[float, float]] = []
        for vertex in extent.iter("Vertex"):
            lon, lat = _number(vertex, "LON"), _number(vertex, "LAT")
            if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return []
            points.append((lon, lat))
        if points and points[0] == points[-1]:
            points.pop()
        if len(points) < 3:
            return []
        rings.append([*points, points[0]])
    return rings


def _epsg(root: ElementTree.Element) -> int | None:
    code = _text(root, "PROJECTED_CRS_CODE") or _text(root, "GEODETIC_CRS_CODE") or ""
    tail = code.replace("::", ":").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _bands(root: ElementTree.Element) -> list[dict[str, Any]]:
    bands = []
    for el in root.iter("Band_Spectral_Range"):
        band_id = _text(el, "BAND_ID")
        if not band_id:
            continue
        low, high = _number(el, "MIN"), _number(el, "MAX")
        unit = (el.find("MIN").get("unit", "micrometer") if el.find("MIN") is not None else "micrometer").lower()
        scale = 0.001 if unit.startswith("nano") else 1.0
        band: dict[str, Any] = {"name": band_id}
        if BAND_NAMES.get(band_id.upper()) and BAND_NAMES[band_id.upper()] != "pan":
            band["common_name"] = BAND_NAMES[band_id.upper()]
        if low is not None and high is not None:
            band["center_wavelength"] = round((low + high) / 2 * scale, 4)
            band["full_width_half_max"] = round((high - low) * scale, 4)
        bands.append(band)
    return bands
