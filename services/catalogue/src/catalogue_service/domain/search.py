"""STAC API item-search requests → the body pgstac's ``search()`` takes.

Handles the filter (CQL2 text, converted with the ``cql2`` package, or CQL2 JSON), sort,
fields and query extensions. The query extension becomes CQL2 here, its string operators
(``startsWith``, ``endsWith``, ``contains``, ``in``) included, so they work whatever the engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
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
                # a scalar property equal to one of them, or an array property holding one of them
                terms.append({"op": "or", "args": [{"op": "in", "args": [field, value]},
                                                   {"op": "a_overlaps", "args": [field, value]}]})
            else:
                raise BadSearch(f"query.{prop}: unknown operator {op!r} (eq, neq, lt, lte, gt, gte, startsWith, "
                                "endsWith, contains, in)")
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"op": "and", "args": terms}


def _normalise(node: Any) -> Any:
    """Accept ``between`` with its bounds in an array (an earlier CQL2 draft, still sent by
    clients and by stac-api-validator) as the standard three arguments."""
    if isinstance(node, list):
        return [_normalise(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _normalise(v) for k, v in node.items()}
    args = node.get("args")
    if node.get("op") == "between" and isinstance(args, list) and len(args) == 2 and \
            isinstance(args[1], list) and len(args[1]) == 2:
        node["args"] = [args[0], *args[1]]
    return node


def parse_filter(value: Any, lang: str | None) -> dict[str, Any]:
    if isinstance(value, dict):
        value = _normalise(value)
        if lang not in (None, "cql2-json"):
            raise BadSearch(f"filter-lang {lang!r} does not match a JSON filter")
        expr = cql2.Expr(value)
    else:
        if lang not in (None, "cql2-text", "cql2-json"):
            raise BadSearch(f"filter-lang must be cql2-text or cql2-json, not {lang!r}")
        try:
            expr = cql2.Expr(_normalise(json.loads(value))) if lang == "cql2-json" else cql2.parse_text(str(value))
        except Exception as exc:  # cql2's ParseError says where the expression fails
            raise BadSearch(f"filter is not valid {lang or 'cql2-text'}: {exc}") from exc
    # no expr.validate(): it compiles CQL2's JSON schema on every call (≈ 18 ms); what pgstac
    # cannot evaluate is refused by it with a 400 all the same
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


ALWAYS = ("id", "type", "collection")
DEFAULT = ("type", "stac_version", "id", "collection", "geometry", "bbox", "assets", "properties.datetime")


@dataclass(frozen=True)
class Fields:
    """The fields extension: ``include`` (None: not given), ``exclude``, and whether an empty
    request asks for the default set."""

    include: tuple[str, ...] | None
    exclude: tuple[str, ...]
    explicit: bool = True  # include given by the client (wins over exclude), not the default set


def parse_fields(params: dict[str, Any], post: bool) -> Fields | None:
    if "fields" not in params:
        return None
    value = params["fields"]
    if post:
        if not isinstance(value, dict):
            raise BadSearch("fields must be an object {include: [...], exclude: [...]}")
        given = "include" in value
        include, exclude = value.get("include") or [], value.get("exclude") or []
        if not all(isinstance(f, str) for f in [*include, *exclude]):
            raise BadSearch("fields.include and fields.exclude are lists of field names")
        if include:
            return Fields(tuple(include), tuple(exclude))
        # an empty include (or none at all with no exclude) means the default set; with only
        # an exclude, everything else
        return Fields(DEFAULT if given or not exclude else None, tuple(exclude), explicit=False)
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    include = tuple(p.lstrip("+") for p in parts if not p.startswith("-"))
    exclude = tuple(p[1:] for p in parts if p.startswith("-"))
    if include:
        return Fields(include, exclude)
    return Fields(None if exclude else DEFAULT, exclude, explicit=False)


def _get(item: dict[str, Any], path: list[str]) -> Any:
    for key in path:
        if not isinstance(item, dict) or key not in item:
            return _MISSING
        item = item[key]
    return item


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _drop(target: dict[str, Any], path: list[str]) -> None:
    for key in path[:-1]:
        target = target.get(key)
        if not isinstance(target, dict):
            return
    target.pop(path[-1], None)


_MISSING = object()


def apply_fields(item: dict[str, Any], fields: Fields) -> dict[str, Any]:
    """Include wins over exclude, also for a field nested under an excluded one."""
    if fields.include is None:
        out = dict(item)
    else:
        out = {}
        for path in (*ALWAYS, *fields.include):
            value = _get(item, path.split("."))
            if value is not _MISSING:
                _put(out, path.split("."), value)
    kept = set(fields.include or ()) if fields.explicit else set()
    for path in fields.exclude:
        if path in kept or any(k.startswith(path + ".") for k in kept):
            continue
        if fields.include is None and "." in path:
            top = path.split(".")[0]
            out[top] = dict(out.get(top) or {})  # do not change the item pgstac gave us in place
        _drop(out, path.split("."))
    return out


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_datetime(value: str) -> str:
    """A single RFC 3339 date-time or an interval with ``..`` or empty for an open end."""
    ends = value.split("/")
    if len(ends) > 2 or all(e in ("", "..") for e in ends):
        raise BadSearch(f"datetime {value!r} must be an RFC 3339 date-time or an interval start/end")
    parsed = []
    for end in ends:
        if end in ("", ".."):
            parsed.append(None)
            continue
        if not _RFC3339.match(end):
            raise BadSearch(f"datetime {end!r} is not RFC 3339 (e.g. 2024-05-01T10:00:00Z)")
        try:
            parsed.append(datetime.fromisoformat(end.upper().replace("Z", "+00:00")))
        except ValueError as exc:
            raise BadSearch(f"datetime {end!r} is not a real date-time: {exc}") from exc
    if len(parsed) == 2 and None not in parsed and parsed[0] > parsed[1]:
        raise BadSearch(f"datetime interval {value!r} ends before it starts")
    return value


def _csv(value: Any) -> list[str]:
    return [v for v in value.split(",") if v] if isinstance(value, str) else list(value)


def _bbox(value: Any, post: bool) -> list[float]:
    if post and not isinstance(value, list):
        raise BadSearch("bbox must be a JSON array of 4 or 6 numbers")
    try:
        box = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError) as exc:
        raise BadSearch("bbox must be 4 or 6 numbers") from exc
    if len(box) not in (4, 6):
        raise BadSearch("bbox must be 4 or 6 numbers")
    if len(box) == 4 and not (-90 <= box[1] <= 90 and -90 <= box[3] <= 90 and box[1] <= box[3]):
        raise BadSearch("bbox latitudes must be within [-90, 90] with south ≤ north")
    return box


def to_pgstac(params: dict[str, Any], post: bool = False) -> dict[str, Any]:
    """Builds pgstac's search body from GET parameters (strings) or a POST body (JSON).
    ``fields`` is left to :func:`apply_fields`, applied to the items pgstac returns."""
    body: dict[str, Any] = {}
    if params.get("collections"):
        body["collections"] = _csv(params["collections"])
    if params.get("ids"):
        body["ids"] = _csv(params["ids"])
    if params.get("bbox") is not None and params.get("intersects") is not None:
        raise BadSearch("bbox and intersects cannot be used together")
    if params.get("bbox") is not None:
        body["bbox"] = _bbox(params["bbox"], post)
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
        body["datetime"] = parse_datetime(str(params["datetime"]))
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except (TypeError, ValueError) as exc:
        raise BadSearch("limit must be a whole number") from exc
    if limit < 1:
        raise BadSearch("limit must be at least 1")
    body["limit"] = min(limit, MAX_LIMIT)  # larger asks are served in pages of MAX_LIMIT
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
    return body
