"""The delivered image: a small Cloud-Optimised GeoTIFF over the ordered area, in its UTM zone, and a PNG
quicklook. Pléiades: bands B0 B1 B2 B3 (multispectral, 2 m) and P (panchromatic, 0.5 m) on one grid;
SPOT 6/7: P (panchromatic, 1.5 m). Scaled down to at most ``MAX_PIXELS`` on the long side, so a test
package weighs kilobytes; outside the footprint is nodata (0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile
from rasterio.transform import Affine
from rasterio.warp import transform as reproject_points
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

MAX_PIXELS = 256
BANDS = {  # band id, (min, max) wavelength in µm, native GSD in m
    "PHR": [("B0", (0.43, 0.55), 2.0), ("B1", (0.49, 0.61), 2.0), ("B2", (0.60, 0.72), 2.0),
            ("B3", (0.75, 0.95), 2.0), ("P", (0.47, 0.83), 0.5)],
    "SPOT": [("P", (0.45, 0.745), 1.5)],
}


@dataclass(frozen=True)
class Grid:
    epsg: int
    transform: Affine
    width: int
    height: int
    footprint: list[list[tuple[float, float]]]  # rings in the projection


def bands(platform: str) -> list[tuple[str, tuple[float, float], float]]:
    return BANDS["PHR" if platform == "PHR" else "SPOT"]


def utm_epsg(rings: list[list[tuple[float, float]]]) -> int:
    points = [p for r in rings for p in r[:-1]]
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    zone = min(60, int((lon + 180) // 6) + 1)
    return (32600 if lat >= 0 else 32700) + zone


def grid(rings: list[list[tuple[float, float]]], native_gsd: float) -> Grid:
    epsg = utm_epsg(rings)
    projected = []
    for ring in rings:
        xs, ys = reproject_points("EPSG:4326", f"EPSG:{epsg}", [p[0] for p in ring], [p[1] for p in ring])
        projected.append(list(zip(xs, ys, strict=True)))
    xs = [x for r in projected for x, _ in r]
    ys = [y for r in projected for _, y in r]
    pixel = max(native_gsd, max(max(xs) - min(xs), max(ys) - min(ys)) / MAX_PIXELS)
    width = max(16, math.ceil((max(xs) - min(xs)) / pixel))
    height = max(16, math.ceil((max(ys) - min(ys)) / pixel))
    return Grid(epsg, Affine(pixel, 0, min(xs), 0, -pixel, max(ys)), width, height, projected)


def synthetic(g: Grid, count: int, seed: int) -> np.ndarray:
    """Plausible-looking uint16 reflectances: smooth fields and fine noise, 0 (nodata) outside the footprint."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:g.height, 0:g.width].astype("float32")
    base = np.zeros((g.height, g.width), "float32")
    for _ in range(6):
        fx, fy, phase = rng.uniform(0.005, 0.08), rng.uniform(0.005, 0.08), rng.uniform(0, 2 * np.pi)
        base += np.sin(xx * fx + yy * fy + phase)
    base = (base - base.min()) / (np.ptp(base) or 1)
    outside = geometry_mask([{"type": "Polygon", "coordinates": [r]} for r in g.footprint],
                            out_shape=(g.height, g.width), transform=g.transform)
    data = np.empty((count, g.height, g.width), "uint16")
    for b in range(count):
        band = 300 + 2500 * base * rng.uniform(0.6, 1.2) + rng.normal(0, 60, base.shape)
        data[b] = np.clip(band, 1, 65535).astype("uint16")
        data[b][outside] = 0
    return data


def write_cog(path: Path, g: Grid, data: np.ndarray, band_ids: list[str]) -> None:
    profile = {"driver": "GTiff", "dtype": "uint16", "count": data.shape[0], "width": g.width, "height": g.height,
               "crs": f"EPSG:{g.epsg}", "transform": g.transform, "nodata": 0}
    with MemoryFile() as memory:
        with memory.open(**profile) as src:
            src.write(data)
            for i, band in enumerate(band_ids, start=1):
                src.set_band_description(i, band)
        with memory.open() as src:
            cog = cog_profiles.get("deflate")
            cog.update(blockxsize=64, blockysize=64)
            cog_translate(src, str(path), cog, overview_level=2, quiet=True, in_memory=True)


def quicklook(data: np.ndarray, band_ids: list[str]) -> bytes:
    """An 8-bit PNG: red, green, blue (Pléiades B2 B1 B0) or the panchromatic band in grey."""
    order = [band_ids.index(b) for b in ("B2", "B1", "B0")] if "B0" in band_ids else [0, 0, 0]
    rgb = data[order].astype("float32")
    valid = rgb[rgb > 0]
    low, high = (np.percentile(valid, [2, 98]) if valid.size else (0.0, 1.0))
    scaled = np.clip((rgb - low) / ((high - low) or 1) * 254 + 1, 1, 255).astype("uint8")
    scaled[rgb == 0] = 0
    with MemoryFile() as memory:
        with memory.open(driver="PNG", dtype="uint8", count=3, width=data.shape[2], height=data.shape[1]) as png:
            png.write(scaled)
        return memory.read()
