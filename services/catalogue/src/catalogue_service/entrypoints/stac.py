"""STAC API landing page (skeleton: no collections yet; search comes with pgstac).

Discovery is public, as on DINAMIS's catalogue: no token needed. Links are absolute and
built from the request's host, which the gateway preserves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(prefix="/stac", tags=["stac"])

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/conf/1.0/core",
]


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/stac"


@router.get("", summary="STAC landing page (anyone)")
@router.get("/", include_in_schema=False)
async def landing(request: Request) -> dict[str, Any]:
    root = _root(request)
    return {
        "type": "Catalog",
        "stac_version": "1.1.0",
        "id": "dinamis",
        "title": "DINAMIS catalogue",
        "description": "Very-high-resolution imagery (Pléiades, SPOT 6/7) mutualised for French public "
                       "bodies and researchers.",
        "conformsTo": CONFORMANCE,
        "links": [
            {"rel": "self", "type": "application/json", "href": root},
            {"rel": "root", "type": "application/json", "href": root},
            {"rel": "conformance", "type": "application/json", "href": f"{root}/conformance"},
            {"rel": "data", "type": "application/json", "href": f"{root}/collections"},
        ],
    }


@router.get("/conformance", summary="Conformance classes (anyone)")
async def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="Collections (anyone)")
async def collections(request: Request) -> dict[str, Any]:
    root = _root(request)
    return {"collections": [], "links": [{"rel": "self", "type": "application/json", "href": f"{root}/collections"},
                                         {"rel": "root", "type": "application/json", "href": root}]}
