"""Deterministic, realistic demo items: the same seed and count give the same items.

Footprints over mainland France, Corsica, the overseas departments, New Caledonia and
Wallis-et-Futuna (whose scenes lie beside the antimeridian); Pléiades ~20 km at
0.5 m, SPOT 6/7 ~60 km at 1.5 m, Sentinel-2 ~110 km tiles, SPOT World Heritage ~60 km,
Airbus archive scenes; 2012–2025 (SWH 1986–2015), with cloud, incidence, azimuth and sun
angles drawn from plausible distributions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from catalogue_service.domain.collections import DEFINITIONS, ITEM_EXTENSIONS

# (name, lon_min, lat_min, lon_max, lat_max, weight)
REGIONS = [
    ("mainland", -4.5, 42.5, 7.8, 50.9, 80), ("corsica", 8.6, 41.4, 9.5, 42.9, 4),
    ("guadeloupe", -61.8, 15.9, -61.0, 16.5, 3), ("martinique", -61.2, 14.4, -60.8, 14.9, 3),
    ("guyane", -54.5, 2.2, -51.7, 5.7, 5), ("reunion", 55.2, -21.4, 55.8, -20.9, 3),
    ("mayotte", 45.0, -13.0, 45.3, -12.6, 2), ("new-caledonia", 163.6, -22.6, 167.9, -19.6, 3),
    ("wallis-futuna", -178.3, -14.4, -176.1, -13.2, 2),
]
# collection: (share, footprint km, first year, last year, instruments, processing level)
KINDS = {
    "pleiades": (0.35, 20, 2012, 2025, ["hiri"], "ORTHO"),
    "spot-6-7": (0.20, 60, 2013, 2025, ["naomi"], "ORTHO"),
    "sentinel-2-l2a": (0.20, 110, 2016, 2025, ["msi"], "L2A"),
    "spot-world-heritage": (0.10, 60, 1986, 2015, ["hrv"], "L1A"),
    "airbus-archive": (0.13, 20, 2012, 2025, ["hiri"], "L1A"),
    "spot-national-coverages": (0.02, 60, 2013, 2024, ["naomi"], "ORTHO"),
}


def _footprint(rng: random.Random, km: float) -> tuple[list[list[float]], list[float]]:
    _, x0, y0, x1, y1, _ = rng.choices(REGIONS, weights=[r[5] for r in REGIONS])[0]
    lat = rng.uniform(y0, y1)
    lon = rng.uniform(x0, x1)
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    tilt = rng.uniform(-0.08, 0.08) * dlon  # scenes are not exactly north-up
    ring = [[lon, lat], [lon + dlon, lat + tilt], [lon + dlon - tilt, lat + dlat + tilt],
            [lon - tilt, lat + dlat], [lon, lat]]
    ring = [[round(x, 6), round(y, 6)] for x, y in ring]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return ring, [min(xs), min(ys), max(xs), max(ys)]


def item(rng: random.Random, n: int) -> dict[str, Any]:
    cid = rng.choices(list(KINDS), weights=[k[0] for k in KINDS.values()])[0]
    _, km, first, last, instruments, level = KINDS[cid]
    platforms, gsd = DEFINITIONS[cid][4], DEFINITIONS[cid][5]
    ring, bbox = _footprint(rng, km * rng.uniform(0.8, 1.2))
    start = datetime(first, 1, 1, tzinfo=UTC)
    span = (datetime(last, 12, 31, tzinfo=UTC) - start).total_seconds()
    when = (start + timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)
    when = when.replace(hour=rng.choice([10, 11]), minute=rng.randrange(60))  # sun-synchronous morning pass
    cloud = round(min(100.0, rng.expovariate(1 / 18)), 1)
    platform = rng.choice(platforms)
    return {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": ITEM_EXTENSIONS,
        "id": f"{cid}-{when:%Y%m%d}-{n:08d}", "collection": cid,
        "geometry": {"type": "Polygon", "coordinates": [ring]}, "bbox": bbox,
        "properties": {
            "datetime": when.isoformat().replace("+00:00", "Z"), "platform": platform,
            "constellation": cid.split("-")[0] if cid != "airbus-archive" else platform.rsplit("-", 1)[0],
            "instruments": instruments, "gsd": gsd, "eo:cloud_cover": cloud,
            "view:incidence_angle": round(abs(rng.gauss(0, 12)) % 45, 2),
            "view:azimuth": round(rng.uniform(0, 360), 2),
            "view:sun_azimuth": round(rng.uniform(130, 175), 2),
            "view:sun_elevation": round(rng.uniform(15, 68), 2),
            "sat:orbit_state": "descending", "processing:level": level, "proj:code": "EPSG:4326",
        },
        "assets": {"thumbnail": {"href": f"https://thumbnails.dinamis.example/{cid}/{n:08d}.jpg",
                                 "type": "image/jpeg", "roles": ["thumbnail"], "title": "Quicklook"}},
        "links": [],
    }


def generate(count: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    for n in range(count):
        yield item(rng, n)
