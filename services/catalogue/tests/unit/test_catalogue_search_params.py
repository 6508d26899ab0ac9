"""STAC search parameters as a client sends them, and what the catalogue makes of them."""

from __future__ import annotations

import pytest
from catalogue_service.domain.search import (
    MAX_LIMIT,
    BadSearch,
    apply_fields,
    parse_datetime,
    parse_fields,
    query_to_cql2,
    to_pgstac,
)

ITEM = {"type": "Feature", "stac_version": "1.1.0", "id": "a", "collection": "pleiades", "bbox": [0, 0, 1, 1],
        "geometry": {"type": "Point", "coordinates": [0, 0]}, "assets": {"thumbnail": {}},
        "properties": {"datetime": "2024-01-01T00:00:00Z", "eo:cloud_cover": 3, "platform": "pleiades-1a"}}


@pytest.mark.parametrize("value", ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00.5+02:00", "../2024-01-01T00:00:00Z",
                                   "2024-01-01T00:00:00Z/..", "2023-01-01T00:00:00Z/2024-01-01T00:00:00Z"])
def test_rfc3339_datetimes_and_open_intervals_are_accepted(value):
    assert parse_datetime(value) == value


@pytest.mark.parametrize(("value", "reason"), [
    ("1985-04-12", "not RFC 3339"), ("1985-12-12T23:20:50.52", "not RFC 3339"),
    ("1937-01-01T12:00:27.87+0100", "not RFC 3339"), ("2024-02-30T00:00:00Z", "not a real date-time"),
    ("../..", "interval"), ("2024-01-02T00:00:00Z/2024-01-01T00:00:00Z", "ends before it starts"),
])
def test_bad_datetimes_are_refused_with_a_reason(value, reason):
    with pytest.raises(BadSearch, match=reason):
        parse_datetime(value)


def test_the_query_extension_becomes_cql2_with_its_string_operators():
    cql = query_to_cql2({"platform": {"startsWith": "spot_"}, "eo:cloud_cover": {"lte": 10}})
    assert cql == {"op": "and", "args": [
        {"op": "like", "args": [{"property": "platform"}, "spot\\_%"]},  # wildcards in the value are literal
        {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]}]}
    with pytest.raises(BadSearch, match="unknown operator 'near'"):
        query_to_cql2({"platform": {"near": "x"}})


def test_a_search_body_for_pgstac():
    body = to_pgstac({"collections": "pleiades,spot-6-7", "bbox": "1,43,2,44", "limit": "5000",
                      "filter": "\"eo:cloud_cover\" < 20", "sortby": "-datetime"})
    assert body["collections"] == ["pleiades", "spot-6-7"] and body["bbox"] == [1, 43, 2, 44]
    assert body["limit"] == MAX_LIMIT
    assert body["filter"] == {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}
    assert body["sortby"] == [{"field": "datetime", "direction": "desc"}]


@pytest.mark.parametrize(("params", "post", "reason"), [
    ({"bbox": "1,2,3,4", "intersects": "{}"}, False, "together"),
    ({"bbox": "1,2,3"}, False, "4 or 6 numbers"),
    ({"bbox": "100.0, 0.0, 105.0, 1.0"}, True, "JSON array"),
    ({"limit": "0"}, False, "at least 1"),
    ({"filter": "eo:cloud_cover <<< 3"}, False, "1:17"),
])
def test_bad_searches_say_what_is_wrong(params, post, reason):
    with pytest.raises(BadSearch, match=reason):
        to_pgstac(params, post)


def test_fields_empty_means_the_default_set():
    out = apply_fields(ITEM, parse_fields({"fields": {}}, post=True))
    assert set(out) == {"type", "stac_version", "id", "collection", "geometry", "bbox", "assets", "properties"}
    assert out["properties"] == {"datetime": "2024-01-01T00:00:00Z"}


def test_fields_exclude_only_keeps_everything_else():
    out = apply_fields(ITEM, parse_fields({"fields": {"exclude": ["geometry"]}}, post=True))
    assert "geometry" not in out and out["properties"]["eo:cloud_cover"] == 3
    assert "geometry" in ITEM  # the item itself is untouched


def test_fields_include_wins_over_exclude_even_nested():
    out = apply_fields(ITEM, parse_fields({"fields": "-properties,+properties.eo:cloud_cover"}, post=False))
    assert out["properties"] == {"eo:cloud_cover": 3} and "geometry" not in out
    both = apply_fields(ITEM, parse_fields({"fields": {"include": ["geometry"], "exclude": ["geometry"]}}, True))
    assert both["geometry"] == ITEM["geometry"]


def test_fields_null_in_a_post_is_refused():
    with pytest.raises(BadSearch):
        parse_fields({"fields": None}, post=True)
