"""STAC API item-search requests → the body pgstac's ``search()`` takes.

Handles the filter (CQL2 text, converted with the ``cql2`` package, or CQL2 JSON), sort,
fields and query extensions. The query extension becomes CQL2 here, its string operators
(``startsWith``, ``endsWith``, ``contains``, ``in``) included, so they work whatever the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import cql2
import orjson

from catalogue_service.domain.limits import (
    BadSearch,
    SearchLimits,
    check_bbox_numbers,
    check_geometry,
    check_json_filter,
    check_names,
    check_text_filter,
    check_token,
)

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


DEFAULT_LIMITS = SearchLimits()


def _json_string(value: str, what: str, limits: SearchLimits) -> Any:
    """A member given as a JSON string (GET): bounded in length, then parsed by orjson, which
    refuses nesting beyond 1024 levels instead of recursing without end."""
    if len(value) > limits.filter_max_chars:
        raise BadSearch(f"{what} is {len(value)} characters long; at most {limits.filter_max_chars} "
                        "(filter_max_chars)")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise BadSearch(f"{what} is not JSON: {exc}") from exc


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


def parse_filter(value: Any, lang: str | None, limits: SearchLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Bounded before the cql2 parser sees it (it recurses, and a deep enough filter overflows the
    process's stack): a JSON filter walked within the limits, a text one scanned, and what the
    text parses to walked as well."""
    if lang is not None and not isinstance(lang, str):
        raise BadSearch("filter-lang must be cql2-text or cql2-json")
    if isinstance(value, dict):
        if lang not in (None, "cql2-json"):
            raise BadSearch(f"filter-lang {lang[:40]!r} does not match a JSON filter")
        check_json_filter(value, limits)
        expr = cql2.Expr(_normalise(value))
    else:
        if lang not in (None, "cql2-text", "cql2-json"):
            raise BadSearch(f"filter-lang must be cql2-text or cql2-json, not {lang[:40]!r}")
        if not isinstance(value, str):
            raise BadSearch("filter must be a CQL2-JSON object or a CQL2-text string")
        if lang == "cql2-json":
            parsed = _json_string(value, "filter", limits)
            check_json_filter(parsed, limits)
        else:
            check_text_filter(value, limits)
        try:
            expr = cql2.Expr(_normalise(parsed)) if lang == "cql2-json" else cql2.parse_text(value)
        except Exception as exc:  # cql2's ParseError says where the expression fails
            raise BadSearch(f"filter is not valid {lang or 'cql2-text'}: {exc}") from exc
    # no expr.validate(): it compiles CQL2's JSON schema on every call (≈ 18 ms); what pgstac
    # cannot evaluate is refused by it with a 400 all the same
    result = expr.to_json()
    check_json_filter(result, limits)  # the same bounds, whichever language it came in
    return result


def parse_sortby(value: Any, limits: SearchLimits = DEFAULT_LIMITS) -> list[dict[str, str]]:
    if isinstance(value, str):
        keys = [v for v in value.split(",") if v]
        _sort_keys([v.lstrip("+-") for v in keys], limits)
        return [{"field": v.lstrip("+-"), "direction": "desc" if v.startswith("-") else "asc"} for v in keys]
    if not isinstance(value, list) or not all(isinstance(s, dict) and "field" in s for s in value):
        raise BadSearch("sortby must be a list of {field, direction}")
    _sort_keys([s["field"] for s in value], limits)
    for s in value:
        if s.get("direction", "asc") not in ("asc", "desc"):
            raise BadSearch(f"sortby direction must be asc or desc, not {str(s.get('direction'))[:20]!r}")
    return [{"field": s["field"], "direction": s.get("direction", "asc")} for s in value]


def _sort_keys(keys: list[Any], limits: SearchLimits) -> None:
    check_names(keys, what="sortby keys", most=limits.sortby_max, most_name="sortby_max",
                chars=limits.field_max_chars, chars_name="field_max_chars")


ALWAYS = ("id", "type", "collection")
DEFAULT = ("type", "stac_version", "id", "collection", "geometry", "bbox", "assets", "properties.datetime")


@dataclass(frozen=True)
class Fields:
    """The fields extension: ``include`` (None: not given), ``exclude``, and whether an empty
    request asks for the default set."""

    include: tuple[str, ...] | None
    exclude: tuple[str, ...]
    explicit: bool = True  # include given by the client (wins over exclude), not the default set

    @cached_property
    def drop(self) -> tuple[str, ...]:
        """The excluded paths that no explicitly included one keeps: decided once per search, not
        once per item (include × exclude comparisons per item made one call cost seconds)."""
        kept = set(self.include or ()) if self.explicit else set()
        prefixes = {".".join(k.split(".")[:n]) for k in kept for n in range(1, k.count(".") + 1)}
        return tuple(p for p in self.exclude if p not in kept and p not in prefixes)


def parse_fields(params: dict[str, Any], post: bool, limits: SearchLimits = DEFAULT_LIMITS) -> Fields | None:
    if "fields" not in params:
        return None
    value = params["fields"]
    if post:
        if not isinstance(value, dict):
            raise BadSearch("fields must be an object {include: [...], exclude: [...]}")
        given = "include" in value
        include, exclude = value.get("include") or [], value.get("exclude") or []
        if not isinstance(include, list) or not isinstance(exclude, list):
            raise BadSearch("fields.include and fields.exclude are lists of field names")
        _field_names([*include, *exclude], limits)
        if include:
            return Fields(tuple(include), tuple(exclude))
        # an empty include (or none at all with no exclude) means the default set; with only
        # an exclude, everything else
        return Fields(DEFAULT if given or not exclude else None, tuple(exclude), explicit=False)
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    include = tuple(p.lstrip("+") for p in parts if not p.startswith("-"))
    exclude = tuple(p[1:] for p in parts if p.startswith("-"))
    _field_names([*include, *exclude], limits)
    if include:
        return Fields(include, exclude)
    return Fields(None if exclude else DEFAULT, exclude, explicit=False)


def _field_names(names: list[Any], limits: SearchLimits) -> None:
    check_names(names, what="fields include and exclude", most=limits.fields_max, most_name="fields_max",
                chars=limits.field_max_chars, chars_name="field_max_chars")


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
    for path in fields.drop:
        if fields.include is None and "." in path:
            top = path.split(".")[0]
            out[top] = dict(out.get(top) or {})  # do not change the item pgstac gave us in place
        _drop(out, path.split("."))
    return out


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_datetime(value: str, limits: SearchLimits = DEFAULT_LIMITS) -> str:
    """A single RFC 3339 date-time or an interval with ``..`` or empty for an open end."""
    if len(value) > limits.datetime_max_chars:
        raise BadSearch(f"datetime is longer than {limits.datetime_max_chars} characters (datetime_max_chars)")
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


def _csv(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if not isinstance(value, list):
        raise BadSearch(f"{what} must be a list of strings")
    return value


_NUMBER = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?\s*")


def _bbox(value: Any, post: bool) -> list[float]:
    if post and not isinstance(value, list):
        raise BadSearch("bbox must be a JSON array of 4 or 6 numbers")
    if isinstance(value, str):
        parts = value.split(",", 6)
        if len(parts) not in (4, 6) or not all(_NUMBER.fullmatch(p) for p in parts):
            raise BadSearch("bbox must be 4 or 6 numbers, all finite")
        value = [float(p) for p in parts]
    return check_bbox_numbers(value)


def to_pgstac(params: dict[str, Any], post: bool = False, limits: SearchLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Builds pgstac's search body from GET parameters (strings) or a POST body (JSON), every
    member bounded by ``limits`` first. ``fields`` is left to :func:`apply_fields`, applied to the
    items pgstac returns."""
    body: dict[str, Any] = {}
    if params.get("collections"):
        body["collections"] = check_names(
            _csv(params["collections"], "collections"), what="collections", most=limits.collections_max,
            most_name="collections_max", chars=limits.collection_max_chars, chars_name="collection_max_chars")
    if params.get("ids"):
        body["ids"] = check_names(_csv(params["ids"], "ids"), what="ids", most=limits.ids_max, most_name="ids_max",
                                  chars=limits.id_max_chars, chars_name="id_max_chars")
    if params.get("bbox") is not None and params.get("intersects") is not None:
        raise BadSearch("bbox and intersects cannot be used together")
    if params.get("bbox") is not None:
        body["bbox"] = _bbox(params["bbox"], post)
    if params.get("intersects") is not None:
        geom = params["intersects"]
        if isinstance(geom, str):
            geom = _json_string(geom, "intersects", limits)
        check_geometry(geom, limits)
        body["intersects"] = geom
    if params.get("datetime"):
        body["datetime"] = parse_datetime(str(params["datetime"]), limits)
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except (TypeError, ValueError) as exc:
        raise BadSearch("limit must be a whole number") from exc
    if limit < 1:
        raise BadSearch("limit must be at least 1")
    body["limit"] = min(limit, MAX_LIMIT)  # larger asks are served in pages of MAX_LIMIT
    if params.get("token"):
        body["token"] = check_token(params["token"], limits)
    filters = []
    if params.get("filter") not in (None, ""):
        filters.append(parse_filter(params["filter"], params.get("filter-lang") or params.get("filter_lang"),
                                    limits))
    if params.get("query"):
        query = params["query"]
        if isinstance(query, str):
            query = _json_string(query, "query", limits)
        if isinstance(query, dict) and len(query) > limits.filter_max_nodes:
            raise BadSearch(f"query has more than {limits.filter_max_nodes} properties (filter_max_nodes)")
        if (q := query_to_cql2(query)) is not None:
            check_json_filter(q, limits, "query")
            filters.append(q)
    if filters:
        body["filter"] = filters[0] if len(filters) == 1 else {"op": "and", "args": filters}
        body["filter-lang"] = "cql2-json"
    if params.get("sortby"):
        body["sortby"] = parse_sortby(params["sortby"], limits)
    return body
