"""The catalogue's collections: what each holds, under which licence, from whom."""

from __future__ import annotations

from typing import Any

EO = "https://stac-extensions.github.io/eo/v2.0.0/schema.json"
VIEW = "https://stac-extensions.github.io/view/v1.1.0/schema.json"
SAT = "https://stac-extensions.github.io/sat/v1.1.0/schema.json"
PROCESSING = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
PROJECTION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
ITEM_EXTENSIONS = [EO, VIEW, SAT, PROCESSING, PROJECTION]

CNES = {"name": "CNES", "roles": ["licensor"], "url": "https://cnes.fr"}
AIRBUS = {"name": "Airbus Defence and Space", "roles": ["producer", "processor"], "url": "https://www.intelligence-airbusds.com"}
DINAMIS = {"name": "DINAMIS", "roles": ["host"], "url": "https://dinamis.data-terra.org"}
ESA = {"name": "ESA / Copernicus", "roles": ["producer", "licensor"], "url": "https://www.copernicus.eu"}
IGN = {"name": "IGN", "roles": ["processor"], "url": "https://www.ign.fr"}

# id: (title, description, licence, providers, platforms, gsd)
DEFINITIONS: dict[str, tuple[str, str, str, list[dict[str, Any]], list[str], float]] = {
    "pleiades": ("Pléiades 1A/1B", "Pléiades 50 cm scenes produced for authorised users, free for every "
                 "eligible user under the Pléiades licence.", "proprietary", [CNES, AIRBUS, DINAMIS],
                 ["pleiades-1a", "pleiades-1b"], 0.5),
    "spot-6-7": ("SPOT 6/7", "SPOT 6/7 1.5 m scenes received in Montpellier and produced for authorised users.",
                 "proprietary", [AIRBUS, DINAMIS], ["spot-6", "spot-7"], 1.5),
    "sentinel-2-l2a": ("Sentinel-2 L2A", "Copernicus Sentinel-2 surface reflectance tiles over France.",
                       "other", [ESA, DINAMIS], ["sentinel-2a", "sentinel-2b"], 10.0),
    "spot-world-heritage": ("SPOT World Heritage", "The SPOT 1-5 archive, free under the Etalab 2.0 licence.",
                            "etalab-2.0", [CNES, DINAMIS], ["spot-1", "spot-2", "spot-4", "spot-5"], 10.0),
    "airbus-archive": ("Airbus archive", "Scenes that exist at Airbus and must be produced and ordered: pick "
                       "them here for an archive request.", "proprietary", [AIRBUS],
                       ["pleiades-1a", "pleiades-1b", "spot-6", "spot-7"], 0.5),
    "spot-national-coverages": ("SPOT 6/7 national coverages", "Yearly SPOT 6/7 mosaics of mainland France "
                                "(IGN grid cells).", "proprietary", [AIRBUS, IGN, DINAMIS], ["spot-6", "spot-7"], 1.5),
}


def collection(cid: str) -> dict[str, Any]:
    title, description, licence, providers, platforms, gsd = DEFINITIONS[cid]
    return {
        "type": "Collection", "stac_version": "1.1.0", "stac_extensions": [], "id": cid, "title": title,
        "description": description, "license": licence, "providers": providers, "keywords": ["france", "vhr"],
        # extents and summaries start empty and follow the items (see the pgstac adapter)
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
        "summaries": {"platform": platforms, "gsd": [gsd]},
        "links": [],
    }


def all_collections() -> list[dict[str, Any]]:
    return [collection(c) for c in DEFINITIONS]


def read_collections(document: Any) -> list[dict[str, Any]]:
    """Collections given to ``dinamis catalogue ingest --collections``: one collection, a list of
    them, or a ``{"collections": [...]}`` page. Raises ``ValueError`` saying which one is wrong."""
    if isinstance(document, dict) and isinstance(document.get("collections"), list):
        document = document["collections"]
    found = document if isinstance(document, list) else [document]
    for index, c in enumerate(found):
        where = f"collection #{index + 1}"
        if not isinstance(c, dict) or c.get("type") != "Collection":
            raise ValueError(f"{where}: not a STAC collection (type must be Collection)")
        if not isinstance(c.get("id"), str) or not c["id"].strip() or "/" in c["id"]:
            raise ValueError(f"{where}: id must be a non-empty string without '/'")
        for key in ("description", "license"):
            if not isinstance(c.get(key), str) or not c[key]:
                raise ValueError(f"{where} ({c['id']}): {key} is required")
        extent = c.get("extent") or {}
        bbox = (extent.get("spatial") or {}).get("bbox")
        interval = (extent.get("temporal") or {}).get("interval")
        if not (isinstance(bbox, list) and bbox and all(isinstance(b, list) and len(b) in (4, 6) for b in bbox)):
            raise ValueError(f"{where} ({c['id']}): extent.spatial.bbox must be a list of 4 or 6 numbers per box")
        if not (isinstance(interval, list) and interval and all(isinstance(i, list) and len(i) == 2 for i in interval)):
            raise ValueError(f"{where} ({c['id']}): extent.temporal.interval must be a list of [start, end] pairs")
    return found
