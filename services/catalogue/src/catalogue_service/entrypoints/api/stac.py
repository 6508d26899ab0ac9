"""STAC API 1.0 over pgstac: landing, conformance, collections, items, search (GET and POST)
with the filter, sort, fields and query extensions, and keyset paging by ``next`` links.

Discovery is public, as on DINAMIS's catalogue: no token. Links are absolute, built from the
platform's public URL (``PUBLIC_URL``), whatever host the request names.

Every member of a search is bounded before any work (``domain.limits``, from the settings): a
refusal is 400 naming the limit. A database away or a statement cut by its time-out is 503 with
``Retry-After``, a search pgstac cannot evaluate 400; none says what the database said. Errors
keep the STAC API's shape ``{code, description}``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from catalogue_service.domain.limits import SearchLimits
from catalogue_service.domain.search import BadSearch, apply_fields, parse_fields, to_pgstac
from catalogue_service.entrypoints.deps import Limits, Stac, context
from catalogue_service.service_layer.ports import IndexTimeout, IndexUnavailable, SearchRefused, StacIndex


class StacRoute(APIRoute):
    """Answers the index's failures in the STAC error shape, whichever endpoint met them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except IndexTimeout:
                retry = str((await context(request)).retry_after_seconds)
                return _json({"code": "SearchTimeout",
                              "description": "the search took longer than the catalogue allows; try again later, "
                                             "or narrow it (fewer collections, a smaller area or period, a simpler "
                                             "filter or sort, no numberMatched count)"},
                             503, headers={"retry-after": retry})
            except IndexUnavailable:
                retry = str((await context(request)).retry_after_seconds)
                return _json({"code": "ServiceUnavailable",
                              "description": "the catalogue's database is unavailable; try again shortly"},
                             503, headers={"retry-after": retry})
            except SearchRefused:
                return _json({"code": "BadRequest",
                              "description": "the search could not be evaluated: check its properties against the "
                                             "queryables, its functions and operators, and its geometries"}, 400)

        return guarded


router = APIRouter(prefix="/stac", tags=["stac"], route_class=StacRoute)
GEOJSON = "application/geo+json"
JSON = "application/json"
SEARCH_CLASSES = ["item-search", "item-search#filter", "item-search#sort", "item-search#fields",
                  "item-search#query"]
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#query",
    *(f"https://api.stacspec.org/v1.0.0/{c}" for c in SEARCH_CLASSES),
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]


def _json(body: Any, status: int = 200, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def _bad(description: str) -> Response:
    """400 in the STAC shape; the description is about the caller's own input, bounded in length."""
    if len(description) > 1000:
        description = description[:999] + "…"
    return _json({"code": "BadRequest", "description": description}, 400)


def _root(request: Request) -> str:
    # the platform's public origin (PUBLIC_URL), never the caller's Host or X-Forwarded-* (link poisoning)
    return request.app.state.runtime.settings.public_url + "/stac"


def _link(rel: str, href: str, type_: str = JSON, **extra: Any) -> dict[str, Any]:
    return {"rel": rel, "href": href, "type": type_, **extra}


def _collection_links(root: str, c: dict[str, Any]) -> dict[str, Any]:
    base = f"{root}/collections/{c['id']}"
    c["links"] = [_link("self", base), _link("parent", root), _link("root", root),
                  _link("items", f"{base}/items", GEOJSON), _link("queryables", f"{base}/queryables",
                                                                   "application/schema+json")]
    return c


def _item_links(root: str, item: dict[str, Any]) -> None:
    if "collection" not in item or "id" not in item:
        return  # the fields extension left them out
    base = f"{root}/collections/{item['collection']}"
    item["links"] = [_link("self", f"{base}/items/{item['id']}", GEOJSON), _link("parent", base),
                     _link("collection", base), _link("root", root)]


@router.get("", summary="Landing page (anyone)")
@router.get("/", include_in_schema=False)
async def landing(request: Request, index: Stac) -> Response:
    root = _root(request)
    collections = await index.collections()
    return _json({
        "type": "Catalog", "stac_version": "1.1.0", "id": "dinamis", "title": "DINAMIS catalogue",
        "description": "Very-high-resolution imagery (Pléiades, SPOT 6/7) mutualised for French public "
                       "bodies and researchers, with Sentinel-2, SPOT World Heritage and the Airbus archive.",
        "conformsTo": CONFORMANCE,
        "links": [
            _link("self", root), _link("root", root), _link("conformance", f"{root}/conformance"),
            _link("data", f"{root}/collections"),
            _link("search", f"{root}/search", GEOJSON, method="GET"),
            _link("search", f"{root}/search", GEOJSON, method="POST"),
            _link("service-desc", f"{root}/api", "application/vnd.oai.openapi+json;version=3.0"),
            _link("http://www.opengis.net/def/rel/ogc/1.0/queryables", f"{root}/queryables",
                  "application/schema+json"),
            *(_link("child", f"{root}/collections/{c['id']}", title=c.get("title")) for c in collections),
        ],
    })


@router.get("/conformance", summary="Conformance classes (anyone)")
async def conformance() -> Response:
    return _json({"conformsTo": CONFORMANCE})


@router.get("/api", summary="OpenAPI description (anyone)")
async def api(request: Request) -> Response:
    return _json(request.app.openapi(), media_type="application/vnd.oai.openapi+json;version=3.0")


@router.get("/queryables", summary="Queryables across collections (anyone)")
async def queryables(index: Stac) -> Response:
    return _json(await index.queryables(None), media_type="application/schema+json")


@router.get("/collections", summary="Collections (anyone)")
async def collections(request: Request, index: Stac) -> Response:
    root = _root(request)
    found = [_collection_links(root, c) for c in await index.collections()]
    return _json({"collections": found, "links": [_link("self", f"{root}/collections"), _link("root", root),
                                                  _link("parent", root)]})


@router.get("/collections/{cid}", summary="One collection (anyone)")
async def collection(request: Request, index: Stac, cid: Annotated[str, Path(max_length=100)]) -> Response:
    found = await index.collection(cid)
    if found is None:
        return _json({"code": "NotFound", "description": f"no collection {cid!r}"}, 404)
    return _json(_collection_links(_root(request), found))


@router.get("/collections/{cid}/queryables", summary="Queryables of one collection (anyone)")
async def collection_queryables(index: Stac, cid: Annotated[str, Path(max_length=100)]) -> Response:
    return _json(await index.queryables(cid), media_type="application/schema+json")


@router.get("/collections/{cid}/items/{item_id}", summary="One item (anyone)")
async def item(request: Request, index: Stac, cid: Annotated[str, Path(max_length=100)],
               item_id: Annotated[str, Path(max_length=200)]) -> Response:
    found = await index.item(cid, item_id)
    if found is None:
        return _json({"code": "NotFound", "description": f"no item {item_id!r} in collection {cid!r}"}, 404)
    _item_links(_root(request), found)
    return _json(found, media_type=GEOJSON)


@router.get("/collections/{cid}/items", summary="Items of one collection, pages by next links (anyone)")
async def items(request: Request, index: Stac, limits: Limits, cid: Annotated[str, Path(max_length=100)]) -> Response:
    if await index.collection(cid) is None:
        return _json({"code": "NotFound", "description": f"no collection {cid!r}"}, 404)
    params = {k: v for k, v in request.query_params.items()
              if k in ("bbox", "datetime", "limit", "token", "context")}
    return await _search(request, index, limits, {**params, "collections": [cid]},
                         get_url=f"{_root(request)}/collections/{cid}/items", query=params)


@router.get("/search", summary="Item search (anyone)")
async def search_get(request: Request, index: Stac, limits: Limits) -> Response:
    params = dict(request.query_params)
    return await _search(request, index, limits, params, get_url=f"{_root(request)}/search", query=params)


@router.post("/search", summary="Item search (anyone)")
async def search_post(request: Request, index: Stac, limits: Limits) -> Response:
    try:
        body = orjson.loads(await request.body() or b"{}")  # orjson refuses nesting beyond 1024 levels
    except orjson.JSONDecodeError as exc:
        return _bad(f"body is not JSON: {exc}")
    if not isinstance(body, dict):
        return _bad("body must be a JSON object")
    # a client may ask for counts on every call in the query string, e.g. pystac-client's
    # Client.open(url, parameters={"context": "on"}), so that its matched() is answered
    params = {**body, "context": "on"} if request.query_params.get("context") == "on" else body
    return await _search(request, index, limits, params, post_url=f"{_root(request)}/search", post_body=body,
                         post=True)


async def _search(request: Request, index: StacIndex, limits: SearchLimits, params: dict[str, Any], *,
                  get_url: str | None = None, query: dict[str, Any] | None = None, post_url: str | None = None,
                  post_body: dict[str, Any] | None = None, post: bool = False) -> Response:
    try:
        body = to_pgstac(params, post, limits)
        fields = parse_fields(params, post, limits)
    except BadSearch as exc:  # a LimitExceeded among them, naming the limit
        return _bad(str(exc))
    # numberMatched when asked for (pgstac counts every match: a cost the client chose), or when it
    # is free: a first page with no next one holds every match
    body["conf"] = {"context": "on" if _wants_count(params) else "off"}
    result = await index.search(body)  # the index's failures: StacRoute
    root = _root(request)
    if fields is not None:
        result["features"] = [apply_fields(f, fields) for f in result.get("features", [])]
    for feature in result.get("features", []):
        _item_links(root, feature)
    links = [_link("root", root)]
    links.append(_link("self", get_url if get_url is not None else post_url, GEOJSON))
    tokens = {rel: _token(result, rel) for rel in ("next", "prev")}
    for rel, token in tokens.items():
        if token is None:
            continue
        if get_url is not None:
            links.append(_link(rel, f"{get_url}?{urlencode({**(query or {}), 'token': token})}", GEOJSON,
                               method="GET"))
        else:
            links.append(_link(rel, post_url, GEOJSON, method="POST", body={**(post_body or {}), "token": token},
                               merge=False))
    result["links"] = links
    result.setdefault("numberReturned", len(result.get("features", [])))
    if "numberMatched" not in result and "token" not in body and tokens["next"] is None:
        result["numberMatched"] = result["numberReturned"]
    return _json(result, media_type=GEOJSON)


def _token(result: dict[str, Any], rel: str) -> str | None:
    """pgstac puts its keyset token in its own ``next``/``prev`` link (``./search?token=next:...``)."""
    for link in result.get("links") or []:
        if link.get("rel") == rel and "token=" in link.get("href", ""):
            return parse_qs(urlsplit(link["href"]).query).get("token", [None])[0]
    return None


def _wants_count(params: dict[str, Any]) -> bool:
    conf = params.get("conf")
    return (isinstance(conf, dict) and conf.get("context") == "on") or params.get("context") == "on"
