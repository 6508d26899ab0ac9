"""``dinamis catalogue ingest``'s engine: bad items reported with line and reason, never fatal;
upserts by (collection, id)."""

from __future__ import annotations

import json

import psycopg
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_catalogue(servers, unique):
    from catalogue_service.adapters.pgstac import prepare
    from catalogue_service.domain.collections import all_collections

    base = servers.postgres_dsn.rpartition("/")[0]
    name = f"stac_ingest_{unique}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    prepare(f"{base}/{name}", all_collections())
    yield f"{base}/{name}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bad_items_are_reported_by_line_and_the_rest_is_loaded(empty_catalogue):
    from catalogue_service.adapters.ingest import ingest, refresh_collections
    from catalogue_service.domain.collections import DEFINITIONS
    from catalogue_service.domain.demo import generate

    good = list(generate(50, seed=3))
    bowtie = {**good[0], "id": "bowtie", "geometry": {"type": "Polygon",
              "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}
    undated = {**good[1], "id": "undated", "properties": {"platform": "spot-6"}}
    alien = {**good[2], "id": "alien", "collection": "landsat"}
    lines = [json.dumps(i) for i in good[:10]] + ["{oops", json.dumps(bowtie), json.dumps(undated),
                                                   json.dumps(alien)] + [json.dumps(i) for i in good[10:]]
    report = ingest(empty_catalogue, lines, set(DEFINITIONS), batch=7)  # several batches, one partition each time
    assert (report.added, report.updated, report.unchanged) == (50, 0, 0)
    reasons = dict(report.failed)
    assert set(reasons) == {11, 12, 13, 14}
    assert reasons[11].startswith("not JSON")
    assert "Self-intersection" in reasons[12]
    assert "missing datetime" in reasons[13]
    assert "unknown collection 'landsat'" in reasons[14]

    refresh_collections(empty_catalogue)
    with psycopg.connect(empty_catalogue) as conn:
        pleiades = conn.execute("SELECT content FROM pgstac.collections WHERE id = 'pleiades'").fetchone()[0]
    mine = [i for i in good if i["collection"] == "pleiades"]
    clouds = [i["properties"]["eo:cloud_cover"] for i in mine]
    assert pleiades["summaries"]["eo:cloud_cover"] == {"minimum": min(clouds), "maximum": max(clouds)}
    assert set(pleiades["summaries"]["platform"]) == {i["properties"]["platform"] for i in mine}
    starts = sorted(i["properties"]["datetime"] for i in mine)
    assert pleiades["extent"]["temporal"]["interval"][0][0][:10] == starts[0][:10]

    with psycopg.connect(empty_catalogue) as conn:  # what pgstac gives back is what was ingested
        for original in good[:10]:
            key = (original["id"], original["collection"])
            stored = conn.execute("SELECT pgstac.get_item(%s, %s)", key).fetchone()[0]
            assert stored["properties"] == original["properties"]
            assert stored["assets"] == original["assets"]
            assert stored["geometry"]["coordinates"] == json.loads(json.dumps(original["geometry"]["coordinates"]))
            assert stored["bbox"] == original["bbox"]


def test_reingest_says_what_changed_and_the_last_duplicate_wins(empty_catalogue):
    from catalogue_service.adapters.ingest import ingest
    from catalogue_service.domain.collections import DEFINITIONS
    from catalogue_service.domain.demo import generate

    items = list(generate(20, seed=4))
    assert ingest(empty_catalogue, [json.dumps(i) for i in items[:15]], set(DEFINITIONS)).added == 15

    cloudier = [{**i, "properties": {**i["properties"], "eo:cloud_cover": 99.0}} for i in items[:2]]
    twice = {**items[2], "properties": {**items[2]["properties"], "eo:cloud_cover": 42.0}}
    lines = [json.dumps(i) for i in [*cloudier, items[2], twice, *items[3:6], *items[15:]]]
    again = ingest(empty_catalogue, lines, set(DEFINITIONS))
    assert (again.added, again.updated, again.unchanged, again.failed) == (5, 3, 4, [])
    with psycopg.connect(empty_catalogue) as conn:
        assert conn.execute("SELECT count(*) FROM pgstac.items").fetchone()[0] == 20
        def cloud(item):
            row = conn.execute("SELECT pgstac.get_item(%s, %s)", (item["id"], item["collection"])).fetchone()[0]
            return row["properties"]["eo:cloud_cover"]
        assert [cloud(i) for i in items[:3]] == [99.0, 99.0, 42.0]
        assert cloud(items[3]) == items[3]["properties"]["eo:cloud_cover"]


def test_items_of_a_collection_given_with_them_are_accepted(empty_catalogue):
    from catalogue_service.adapters.ingest import ingest, upsert_collections
    from catalogue_service.domain.collections import DEFINITIONS, collection, read_collections
    from catalogue_service.domain.demo import generate

    drone = {**collection("pleiades"), "id": "drone-campaign-2026", "title": "Drone campaign"}
    extra = read_collections({"collections": [drone]})
    items = [{**i, "collection": "drone-campaign-2026"} for i in generate(5, seed=5)]
    lines = [json.dumps(i) for i in items]
    assert len(ingest(empty_catalogue, lines, set(DEFINITIONS)).failed) == 5  # unknown until given

    upsert_collections(empty_catalogue, extra)
    report = ingest(empty_catalogue, lines, set(DEFINITIONS) | {"drone-campaign-2026"})
    assert (report.added, report.failed) == (5, [])
    with psycopg.connect(empty_catalogue) as conn:
        title = conn.execute("SELECT pgstac.get_collection('drone-campaign-2026')->>'title'").fetchone()[0]
    assert title == "Drone campaign"
