"""What the provisioning tests share: a delivered product package as Airbus sends it (a zip with a DIMAP v2
document, an image and a quicklook), with the faults a test may ask for."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest

FOOTPRINT = [(3.80, 43.55), (3.95, 43.55), (3.95, 43.65), (3.80, 43.65)]


def dimap_xml(*, dataset: str = "DS_PHR1A_202606011030123_FR1_PX_E003N43_0101_01234", mission: str = "PHR",
              index: str = "1A", time: str | None = "2026-06-01T10:30:12.5Z",
              footprint: list[tuple[float, float]] | None = FOOTPRINT, drop: tuple[str, ...] = ()) -> bytes:
    """A DIMAP v2 document laid out as Airbus's (Pléiades 4 bands + panchromatic); ``drop`` leaves tags out."""
    def tag(name: str, value: object, attrs: str = "") -> str:
        return "" if name in drop or value is None else f"<{name}{attrs}>{value}</{name}>"

    vertices = "".join(f"<Vertex>{tag('LON', lon)}{tag('LAT', lat)}</Vertex>" for lon, lat in footprint or [])
    um = ' unit="micrometer"'
    bands = "".join(f"<Band_Spectral_Range>{tag('BAND_ID', b)}{tag('MIN', lo, um)}"
                    f"{tag('MAX', hi, um)}</Band_Spectral_Range>"
                    for b, lo, hi in (("P", 0.47, 0.83), ("B0", 0.43, 0.55), ("B1", 0.49, 0.61), ("B2", 0.60, 0.72),
                                      ("B3", 0.75, 0.95)))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Dimap_Document name="DIM_PHR.XML">
 <Metadata_Identification><METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT></Metadata_Identification>
 <Dataset_Identification>{tag('DATASET_NAME', dataset)}</Dataset_Identification>
 <Dataset_Content>{tag('CLOUD_COVERAGE', 3.5, ' unit="percent"')}
  {'' if 'Dataset_Extent' in drop else f'<Dataset_Extent>{vertices}</Dataset_Extent>'}</Dataset_Content>
 <Product_Information><Processing_Information><Product_Settings>{tag('PROCESSING_LEVEL', 'ORTHO')}
 </Product_Settings></Processing_Information></Product_Information>
 <Coordinate_Reference_System><Projected_CRS>{tag('PROJECTED_CRS_CODE', 'urn:ogc:def:crs:EPSG::32631')}
 </Projected_CRS></Coordinate_Reference_System>
 <Radiometric_Data><Radiometric_Calibration><Instrument_Calibration><Band_Measurement_List>{bands}
 </Band_Measurement_List></Instrument_Calibration></Radiometric_Calibration></Radiometric_Data>
 <Geometric_Data><Use_Area><Located_Geometric_Values>{tag('TIME', time)}
  <Acquisition_Angles>{tag('INCIDENCE_ANGLE', 12.3)}{tag('AZIMUTH_ANGLE', 180.2)}</Acquisition_Angles>
  <Solar_Incidences>{tag('SUN_AZIMUTH', 160.1)}{tag('SUN_ELEVATION', 62.4)}</Solar_Incidences>
  <Ground_Sample_Distance>{tag('GSD_ACROSS_TRACK', 0.5)}{tag('GSD_ALONG_TRACK', 0.5)}</Ground_Sample_Distance>
 </Located_Geometric_Values></Use_Area></Geometric_Data>
 <Dataset_Sources><Source_Identification><Strip_Source>{tag('MISSION', mission)}{tag('MISSION_INDEX', index)}
  {tag('INSTRUMENT', 'PHR')}</Strip_Source></Source_Identification></Dataset_Sources>
</Dimap_Document>""".encode()


def package(xml: bytes | None = None, *, name: str = "PHR_ORD-1", corrupt: bool = False,
            without: tuple[str, ...] = ()) -> bytes:
    """The delivery zip; ``corrupt`` cuts it in half; ``without`` leaves files out (DIM_, IMG_, PREVIEW_)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for prefix, suffix, data in (("DIM_", ".XML", xml if xml is not None else dimap_xml()),
                                     ("IMG_", ".tif", b"II*\x00" + b"\x00" * 512),
                                     ("PREVIEW_", ".png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)):
            if prefix not in without:
                z.writestr(f"{prefix}{name}{suffix}", data)
    data = buf.getvalue()
    return data[: len(data) // 2] if corrupt else data


@pytest.fixture
def make_package() -> Callable[..., bytes]:
    return package


@pytest.fixture
def make_dimap() -> Callable[..., bytes]:
    return dimap_xml
