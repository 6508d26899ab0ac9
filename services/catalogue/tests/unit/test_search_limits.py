"""Limits of a STAC search (issue 11): every member bounded before the cql2 parser, pgstac or the
fields extension does any work, each refusal naming its limit; limits come from the settings."""

from __future__ import annotations

import json
import math
import time

import pytest
from catalogue_service.domain.limits import (
    LimitExceeded,
    SearchLimits,
    check_geometry,
    check_json_filter,
    check_text_filter,
)
from catalogue_service.domain.search import BadSearch, Fields, apply_fields, parse_fields, to_pgstac

LIMITS = SearchLimits()
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def nested_json_text(depth: int) -> str:
    return '{"op":"not","args":[' * depth + '{"op":"=","args":[{"property":"a"},1]}' + "]}" * depth


def nested_json(depth: int) -> dict:
    node: dict = {"op": "=", "args": [{"property": "a"}, 1]}
    for _ in range(depth):
        node = {"op": "not", "args": [node]}
    return node


@pytest.mark.parametrize(("text", "limit"), [
    ("(" * 5000 + "a=1" + ")" * 5000, "filter_max_depth"),  # exit 139 in the parser before
    ("NOT " * 4000 + "a=1", "filter_max_nodes"),  # 10,000 of these crashed it too
    ("a = " + "-" * 10_000 + "1", "filter_max_nodes"),
    ("a = " + "+".join(["1"] * 5000), "filter_max_nodes"),
    ("a = '" + "x" * 5000 + "'", "filter_max_string_chars"),
    ("a IN (" + ",".join(["1"] * 5000) + ")", "filter_max_nodes"),
    ("a = 1 AND " * 4000 + "a = 1", "filter_max_chars"),
])
def test_a_cql2_text_filter_too_big_is_refused_before_the_parser_naming_the_limit(text, limit):
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match=limit):
        to_pgstac({"filter": text})
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("depth", [17, 600, 5000])
def test_a_deep_cql2_json_filter_is_refused_by_post_and_by_get(depth):
    with pytest.raises(LimitExceeded, match="filter_max_depth"):
        to_pgstac({"filter": nested_json(depth)}, post=True)
    with pytest.raises(BadSearch):  # beyond 1024 levels orjson itself refuses the string
        to_pgstac({"filter": nested_json_text(depth), "filter-lang": "cql2-json"})


def test_the_same_bounds_hold_whichever_language_and_for_the_query_extension():
    assert to_pgstac({"filter": nested_json(14)}, post=True)["filter"]
    assert to_pgstac({"filter": "(" * 14 + "a=1" + ")" * 14})["filter"]
    with pytest.raises(LimitExceeded, match="filter_max_array"):
        to_pgstac({"filter": {"op": "in", "args": [{"property": "a"}, list(range(1001))]}}, post=True)
    with pytest.raises(LimitExceeded, match=r"query.*filter_max_nodes"):
        to_pgstac({"query": {"platform": {"in": [f"p{i}" for i in range(600)]}}}, post=True)
    with pytest.raises(LimitExceeded, match=r"query.*filter_max_depth"):
        to_pgstac({"query": {"a": {"eq": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}}}, post=True)
    with pytest.raises(LimitExceeded, match="not a CQL2 expression"):
        check_json_filter({"op": "=", "args": [{"x": {"x": {"x": 1}}}, 1]}, LIMITS)
    with pytest.raises(LimitExceeded, match="not finite"):
        check_json_filter({"op": "=", "args": [{"property": "a"}, math.nan]}, LIMITS)


def test_geometries_in_a_filter_count_as_vertices_not_terms():
    ring = ", ".join(f"-{i / 100} -1" for i in range(1500)) + ", 0 1, 0 -1"  # signs are not terms
    text = f"S_INTERSECTS(geometry, POLYGON((0 -1, {ring})))"
    assert to_pgstac({"filter": text})["filter"]["op"] == "s_intersects"
    with pytest.raises(LimitExceeded, match="geometry_max_vertices"):
        check_text_filter(text, SearchLimits(geometry_max_vertices=1000))


@pytest.mark.parametrize(("geometry", "reason"), [
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "closed"),
    ({"type": "Point", "coordinates": [math.nan, 0]}, "finite"),
    ({"type": "Point", "coordinates": [1e400, 0]}, "finite"),
    ({"type": "Point", "coordinates": [190, 0]}, "outside"),
    ({**SQUARE, "crs": {"type": "name"}}, "crs"),
    ({"type": "Polygon", "coordinates": [0, 0]}, "nested"),
    ({"type": "Polygon", "coordinates": [[0, 0]]}, "closed"),
    ({"type": "Circle", "coordinates": [0, 0]}, "GeoJSON geometry"),
    ({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]}, "simple"),
    ({"type": "LineString", "coordinates": [[0, i / 1e4] for i in range(10_001)]}, "geometry_max_vertices"),
])
def test_intersects_is_strict_geojson_and_bounded(geometry, reason):
    with pytest.raises(LimitExceeded, match=reason):
        to_pgstac({"intersects": geometry}, post=True)
    with pytest.raises(BadSearch, match=f"{reason}|not JSON|filter_max_chars"):  # orjson refuses NaN
        to_pgstac({"intersects": json.dumps(geometry, allow_nan=True)})


def test_a_valid_intersects_passes():
    assert to_pgstac({"intersects": SQUARE}, post=True)["intersects"] == SQUARE
    check_geometry({"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]] * 3}, LIMITS)


@pytest.mark.parametrize(("params", "post", "limit"), [
    ({"fields": {"include": [f"properties.p{i}" for i in range(40)],
                 "exclude": [f"properties.q{i}" for i in range(40)]}}, True, "fields_max"),
    ({"fields": ",".join(f"-p{i}" for i in range(51))}, False, "fields_max"),
    ({"fields": {"include": ["p" * 201]}}, True, "field_max_chars"),
    ({"sortby": ",".join(f"-p{i}" for i in range(9))}, False, "sortby_max"),
    ({"sortby": [{"field": "x" * 201}]}, True, "field_max_chars"),
    ({"ids": [str(i) for i in range(1001)]}, True, "ids_max"),
    ({"ids": "x" * 201}, False, "id_max_chars"),
    ({"ids": [1, 2]}, True, "non-empty strings"),
    ({"collections": ",".join(f"c{i}" for i in range(51))}, False, "collections_max"),
    ({"collections": ["c" * 101]}, True, "collection_max_chars"),
    ({"token": "next:" + "ab" * 2000 + ":ab"}, False, "paging token"),
    ({"token": "next:zz:00"}, False, "paging token"),
    ({"token": "drop table"}, False, "paging token"),
    ({"datetime": "2024-01-01T00:00:00Z/" + "." * 200}, False, "datetime_max_chars"),
    ({"bbox": "nan,0,1,1"}, False, "finite"),
    ({"bbox": "1e999,0,1,1"}, False, "finite"),
    ({"bbox": "0,0,1," + "9" * 400}, False, "finite"),
    ({"bbox": [0, 0, 200, 1]}, True, "longitudes"),
    ({"bbox": [0, 0, 0, 1, 100, 1]}, True, "latitudes"),
    ({"filter": "a=1", "filter-lang": ["x"]}, False, "filter-lang"),
])
def test_every_list_name_and_number_of_a_search_is_bounded(params, post, limit):
    with pytest.raises(BadSearch, match=limit):
        to_pgstac(params, post)
        parse_fields(params, post)


def test_a_paging_token_as_pgstac_hands_them_out_passes():
    token = "next:" + b"pleiades".hex() + ":" + "é-1".encode().hex()
    assert to_pgstac({"token": token})["token"] == token


def test_limits_come_from_the_settings(monkeypatch):
    from catalogue_service.settings import Settings

    monkeypatch.setenv("CATALOGUE_LIMITS", '{"filter_max_depth": 3, "fields_max": 2}')
    monkeypatch.setenv("POSTGRES_STATEMENT_TIMEOUT_MS", "250")
    settings = Settings()
    assert settings.catalogue_limits.filter_max_depth == 3 and settings.postgres_statement_timeout_ms == 250
    with pytest.raises(LimitExceeded, match="more than 3 deep"):
        to_pgstac({"filter": nested_json(3)}, post=True, limits=settings.catalogue_limits)
    with pytest.raises(LimitExceeded, match="at most 2"):
        parse_fields({"fields": "a,b,c"}, False, settings.catalogue_limits)


def test_fields_cost_each_item_its_own_lists_not_their_product():
    include = (*tuple(f"properties.p{i}" for i in range(25)), "properties")
    exclude = (*tuple(f"properties.q{i}" for i in range(24)), "properties")
    fields = Fields(include, exclude)
    assert fields.drop == exclude[:-1]  # decided once: "properties" is kept by the include
    item = {"id": "a", "type": "Feature", "collection": "c",
            "properties": {**{f"p{i}": i for i in range(25)}, **{f"q{i}": i for i in range(25)}}}
    started = time.perf_counter()
    for _ in range(1000):
        out = apply_fields(item, fields)
    assert time.perf_counter() - started < 1.0
    assert set(out["properties"]) == {*(f"p{i}" for i in range(25)), "q24"}
