"""``python -m catalogue_service.entrypoints.cli``, the way ``dinamis catalogue`` and bench/catalogue
load the index: run as a process on the database of ``POSTGRES_DSN``, it reports progress, each
refused item with its line and reason, and a summary, as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_database(servers, unique):
    base = servers.postgres_dsn.rpartition("/")[0]
    name = f"stac_cli_{unique}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield f"{base}/{name}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(dsn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "catalogue_service.entrypoints.cli", *args], text=True,
                          capture_output=True, env={**os.environ, "POSTGRES_DSN": dsn}, timeout=240)


def test_items_and_their_collection_are_loaded_and_bad_lines_reported(empty_database, tmp_path):
    demo = cli(empty_database, "demo", "--items", "30", "--seed", "3", "--out", str(tmp_path / "items.ndjson"))
    assert demo.returncode == 0, demo.stderr
    items = [json.loads(line) for line in (tmp_path / "items.ndjson").read_text().splitlines()]
    assert len(items) == 30
    drone = {"type": "Collection", "stac_version": "1.1.0", "id": "drone-2026", "description": "Drone campaign",
             "license": "etalab-2.0", "links": [],
             "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}}}
    (tmp_path / "collections.json").write_text(json.dumps({"collections": [drone]}))
    lines = [json.dumps(i) for i in items[:10]] + ["{oops", json.dumps({**items[10], "collection": "landsat"}),
                                                   json.dumps({**items[11], "collection": "drone-2026"})]
    (tmp_path / "mixed.ndjson").write_text("\n".join(lines) + "\n")

    run = cli(empty_database, "ingest", str(tmp_path / "mixed.ndjson"), "--collections",
              str(tmp_path / "collections.json"))
    assert run.returncode == 0, run.stderr
    said = [json.loads(line) for line in run.stdout.splitlines()]
    assert sum(s["progress"] for s in said if "progress" in s) == 13
    assert [(s["line"], s["reason"][:12]) for s in said if "reason" in s] == [(11, "not JSON: un"),
                                                                             (12, "unknown coll")]
    assert {k: said[-1][k] for k in ("added", "updated", "unchanged", "failed")} == {
        "added": 11, "updated": 0, "unchanged": 0, "failed": 2}
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM pgstac.items WHERE collection = 'drone-2026'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM pgstac.items").fetchone()[0] == 11

    again = cli(empty_database, "ingest", str(tmp_path / "mixed.ndjson"), "--collections",
                str(tmp_path / "collections.json"))
    assert {k: json.loads(again.stdout.splitlines()[-1])[k] for k in ("added", "unchanged")} == {
        "added": 0, "unchanged": 11}


def test_a_wrong_collections_file_or_a_missing_items_file_is_refused_saying_why(empty_database, tmp_path):
    (tmp_path / "items.ndjson").write_text("")
    (tmp_path / "bad.json").write_text(json.dumps({"type": "Feature"}))
    wrong = cli(empty_database, "ingest", str(tmp_path / "items.ndjson"), "--collections", str(tmp_path / "bad.json"))
    assert wrong.returncode == 2 and "collection #1: not a STAC collection" in wrong.stderr
    missing = cli(empty_database, "ingest", str(tmp_path / "nope.ndjson"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert wrong.stdout == missing.stdout == ""
