"""Items are hydrated by the catalogue, not by pgstac (which costs ~0.3 ms an item in PL/pgSQL):
what a client receives must be exactly what pgstac's own hydration gives, on the stored items and
on the corner cases of its merge rules (do-not-merge markers, nulls, arrays)."""

from __future__ import annotations

import copy

import httpx
import psycopg
import pytest
from catalogue_service.adapters.hydration import DO_NOT_MERGE, hydrate
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.integration
M = DO_NOT_MERGE


async def test_every_item_is_what_pgstac_would_have_hydrated(catalogue):
    with psycopg.connect(catalogue.dsn, options="-c search_path=pgstac,public") as conn:
        by_pgstac = conn.execute("SELECT search(%s)", (Jsonb({"limit": 10000}),)).fetchone()[0]["features"]
    served = []
    async with httpx.AsyncClient() as http:
        page = (await http.post(f"{catalogue.url}/search", json={"limit": 1000})).json()
        while True:
            served += page["features"]
            nxt = next((link for link in page["links"] if link["rel"] == "next"), None)
            if nxt is None:
                break
            page = (await http.post(nxt["href"], json=nxt["body"])).json()
    assert len(by_pgstac) == len(served) == len(catalogue.items)
    for ours, theirs in zip(served, by_pgstac, strict=True):
        ours.pop("links")
        theirs.pop("links", None)
        assert ours == theirs


CASES = [
    # nulls in the item are dropped at every depth; the base item fills what the item lacks
    ({"a": 1, "n": None, "o": {"x": None, "y": [1, None, {"z": None}]}}, {"a": 2, "b": {"c": None, "d": 1}}),
    # a marker drops the base item's value; arrays of the same length merge element by element
    ({"a": M, "b": {"c": M, "d": 2}, "l": [M, {"k": None}]}, {"a": 1, "b": {"c": 3, "e": 4}, "l": [1, {"k": 5}]}),
    # two empty arrays give nothing; arrays of different lengths keep the item's; so does a type clash
    ({"l": [], "m": [1, 2], "k": {"q": [M]}, "s": "x"}, {"l": [], "m": [1], "k": {"q": "s"}, "s": {"t": 1}}),
    # a marker under a key the base item lacks is not a merge: kept as it is
    ({"x": None, "y": {"z": M}}, {"x": {"deep": None, "d2": [None, {"e": None}]}}),
    ({"arr": [[1, M], [None]], "b": [None, {"a": None}]}, {"arr": [[5, 6], [7]], "b": [{"c": 1}, {"a": 2}]}),
]


@pytest.mark.parametrize(("item", "base"), CASES)
async def test_the_merge_rules_are_pgstacs(catalogue, item, base):
    with psycopg.connect(catalogue.dsn, options="-c search_path=pgstac,public") as conn:
        expected = conn.execute("SELECT merge_jsonb(%s, %s)", (Jsonb(item), Jsonb(base))).fetchone()[0]
    feature = {**copy.deepcopy(item), "pgstac:base_item": base}
    assert hydrate(feature) == expected
