"""The product package of a delivered order: ``DIM_<mission>_<id>.XML`` (DIMAP v2), ``IMG_<mission>_<id>.tif``
(a Cloud-Optimised GeoTIFF) and ``PREVIEW_<mission>_<id>.png`` (a quicklook), zipped. Built once per order
(cached in the state directory), the same every time for the same order."""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from pathlib import Path

from rasterio.errors import NotGeoreferencedWarning

from airbus_simulator import geo, imagery
from airbus_simulator.dimap import Product, document
from airbus_simulator.orders import Order, digest


def names(order: Order) -> dict[str, str]:
    stem = f"{order.mission}_{order.id}"
    return {"dimap": f"DIM_{stem}.XML", "image": f"IMG_{stem}.tif", "quicklook": f"PREVIEW_{stem}.png"}


def footprint(order: Order) -> list[list[tuple[float, float]]]:
    """The ordered area: every item's polygon (archive) or the tasking's polygons."""
    if order.kind == "archive":
        return [r for item in order.body["items"] for r in geo.rings(item["aoi"], multi=False)]
    return geo.rings(order.body["aoi"], multi=True)


def build(order: Order, into: Path) -> Path:
    """Writes the order's package under ``into`` (atomically) and returns its path."""
    path = into / f"{order.id}.zip"
    if path.exists():
        return path
    into.mkdir(parents=True, exist_ok=True)
    files = names(order)
    rings = footprint(order)
    bands = imagery.bands(order.platform)
    finest = min(gsd for _, _, gsd in bands)
    grid = imagery.grid(rings, finest)
    band_ids = [b for b, _, _ in bands]
    seed = int(digest(order.id, "pixels") * 2**32)
    data = imagery.synthetic(grid, len(bands), seed)
    max_cloud = float(order.body.get("max_cloud_cover", 100.0))
    max_incidence = float(order.body.get("max_incidence_angle", 30.0))
    product = Product(
        dataset_id=f"DS_{order.platform}_{order.acquired_at().strftime('%Y%m%d%H%M%S')}_{order.id}",
        order_id=order.id, customer_reference=order.customer_reference, platform=order.platform,
        acquired_at=order.acquired_at(), footprint=rings,
        cloud_cover=min(max_cloud, 10.0) * digest(order.id, "clouds"),
        incidence=min(max_incidence, 30.0) * (0.2 + 0.8 * digest(order.id, "incidence")),
        azimuth=360 * digest(order.id, "azimuth"), gsd=finest, processing_level="ORTHO", grid=grid,
        bands=bands, image=files["image"])
    with tempfile.TemporaryDirectory(dir=into) as work:
        image = Path(work) / files["image"]
        imagery.write_cog(image, grid, data, band_ids)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            preview = imagery.quicklook(data, band_ids)
        staged = Path(work) / "package.zip"
        with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(files["dimap"], document(product))
            z.write(image, files["image"])
            z.writestr(files["quicklook"], preview)
        os.replace(staged, path)
    return path
