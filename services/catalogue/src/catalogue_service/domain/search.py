"""STAC API item-search requests → the body pgstac's ``search()`` takes.

Handles the filter (CQL2 text, converted with the ``cql2`` package, or CQL2 JSON), sort,
fields and query extensions. The query extension becomes CQL2 here, its string operators
(``startsWith``, ``endsWith``, ``contains``, ``in``) included, so they work whatever the engine.
"""

from __future__ import annotations

import json
from typing import Any

import cql2

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


class BadSearch(ValueError):
    """The request cannot be understood: 400 with this message."""


_COMPARISONS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_to_cql2(query: dict[str, Any]) -> dict[str, Any] | None:
    if not isinstance(query, dict):
        raise BadSearch("query must be an object: {property: {operator: value}}")
    terms: list[dict[str, Any]] = []
    for prop, ops in query.items():
        if not isinstance(ops, dict):
            raise BadSearch(f"query.{prop} must be an object of operators, e.g. {{\"lt\": 10}}")
        field = {"property": prop}
        for op, value in ops.items():
            if op in _COMPARISONS:
                terms.append({"op": _COMPARISONS[op], "args": [field, value]})
            elif op in ("startsWith", "endsWith", "contains"):
                if not isinstance(value, str):
                    raise BadSearch(f"query.{prop}.{op} takes a string")
                v = _like_escape(value)
                pattern = {"startsWith": f"{v}%", "endsWith": f"%{v}", "contains": f"%{v}%"}[op]
                terms.append({"op": "like", "args": [field, pattern]})
            elif op == "in":
                if not isinstance(value, list) or not value:
                    raise BadSearch(f"query.{prop}.in takes a non-empty list")
                terms.append({"op": "in", "args": [field, value]})
            else:
                raise BadSearch(f"query.{prop}: unknown operator {op!r} (eq, neq, lt, lte, gt, gte, startsWith, "
                                "endsWith, contains, in)")
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"op": "and", "args": terms}


def parse_filter(value: Any, lang: str | None) -> dict[str, Any]:
    if isinstance(value, dict):
        if lang not in (None, "cql2-json"):
            raise BadSearch(f"filter-lang {lang!r} does not match a JSON filter")
        expr = cql2.Expr(value)
    else:
        if lang not in (None, "cql2-text", "cql2-json"):
            raise BadSearch(f"filter-lang must be cql2-text or cql2-json, not {lang!r}")
        try:
            expr = cql2.Expr(json.loads(value)) if lang == "cql2-json" else cql2.parse_text(str(value))
        except Exception as exc:  # cql2's ParseError says where the expression fails
            raise BadSearch(f"filter is not valid {lang or 'cql2-text'}: {exc}") from exc
    try:
        expr.validate()
    except Exception as exc:
        raise BadSearch(f"filter is not valid CQL2: {exc}") from exc
    return expr.to_json()


def parse_sortby(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
        return [{"field": v.lstrip("+-"), "direction": "desc" if v.startswith("-") else "asc"} for v in value]
    if not isinstance(value, list) or not all(isinstance(s, dict) and "field" in s for s in value):
        raise BadSearch("sortby must be a list of {field, direction}")
    for s in value:
        if s.get("direction", "asc") not in ("asc", "desc"):
            raise BadSearch(f"sortby direction must be asc or desc, not {s.get('direction')!r}")
    return value


def parse_fields(value: Any) -> dict[str, list[str]]:
    if isinstance(value, str):
        parts = [v for v in value.split(",") if v]
        return {"include": [p.lstrip("+") for p in parts if not p.startswith("-")],
                "exclude": [p[1:] for p in parts if p.startswith("-")]}
    if not isinstance(value, dict):
        raise BadSearch("fields must be {include: [...], exclude: [...]}")
    return {"include": list(value.get("include") or []), "exclude": list(value.get("exclude") or [])}


def _csv(value: Any) -> list[str]:
    return [v for v in value.split(",") if v] if isinstance(value, str) else list(value)


def _bbox(value: Any) -> list[float]:
    try:
        box = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError) as exc:
        raise BadSearch("bbox must be 4 or 6 numbers") from exc
    if len(box) not in (4, 6):
        raise BadSearch("bbox must be 4 or 6 numbers")
    if len(box) == 4 and not (-90 <= box[1] <= 90 and -90 <= box[3] <= 90 and box[1] <= box[3]):
        raise BadSearch("bbox latitudes must be within [-90, 90] with south ≤ north")
    return box


def to_pgstac(params: dict[str, Any]) -> dict[str, Any]:
    """Builds pgstac's search body from GET parameters (strings) or a POST body (JSON)."""
    body: dict[str, Any] = {}
    if params.get("collections"):
        body["collections"] = _csv(params["collections"])
    if params.get("ids"):
        body["ids"] = _csv(params["ids"])
    if params.get("bbox") is not None and params.get("intersects") is not None:
        raise BadSearch("bbox and intersects cannot be used together")
    if params.get("bbox") is not None:
        body["bbox"] = _bbox(params["bbox"])
    if params.get("intersects") is not None:
        geom = params["intersects"]
        if isinstance(geom, str):
            try:
                geom = json.loads(geom)
            except json.JSONDecodeError as exc:
                raise BadSearch(f"intersects is not GeoJSON: {exc}") from exc
        if not isinstance(geom, dict) or "type" not in geom:
            raise BadSearch("intersects must be a GeoJSON geometry")
        body["intersects"] = geom
    if params.get("datetime"):
        body["datetime"] = str(params["datetime"])
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except ValueError as exc:
        raise BadSearch("limit must be a whole number") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise BadSearch(f"limit must be between 1 and {MAX_LIMIT}")
    body["limit"] = limit
    if params.get("token"):
        body["token"] = str(params["token"])
    filters = []
    if params.get("filter") not in (None, ""):
        filters.append(parse_filter(params["filter"], params.get("filter-lang") or params.get("filter_lang")))
    if params.get("query"):
        query = params["query"]
        if isinstance(query, str):
            try:
                query = json.loads(query)
            except json.JSONDecodeError as exc:
                raise BadSearch(f"query is not JSON: {exc}") from exc
        if (q := query_to_cql2(query)) is not None:
            filters.append(q)
    if filters:
        body["filter"] = filters[0] if len(filters) == 1 else {"op": "and", "args": filters}
        body["filter-lang"] = "cql2-json"
    if params.get("sortby"):
        body["sortby"] = parse_sortby(params["sortby"])
    if params.get("fields"):
        body["fields"] = parse_fields(params["fields"])
    return body
