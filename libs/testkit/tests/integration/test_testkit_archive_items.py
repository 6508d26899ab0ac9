"""The known archive scenes reach a catalogue through its own command line, once, and a second
load changes nothing (what every flow test and benchmark relies on before submitting over them)."""

from __future__ import annotations

import psycopg
import pytest
from dinamis_cli.catalogue import load_archive_scenes
from dinamis_testkit.archive import ARCHIVE_SCENES, ensure_archive_items

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_catalogue(servers, unique):
    base = servers.postgres_dsn.rpartition("/")[0]
    name = f"stac_kit_{unique}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield f"{base}/{name}"
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_known_scenes_are_ingested_with_their_footprints_and_loading_again_changes_nothing(empty_catalogue):
    assert ensure_archive_items(empty_catalogue) == list(ARCHIVE_SCENES)
    with psycopg.connect(empty_catalogue) as conn:
        rows = dict(conn.execute("SELECT id, ST_Area(geometry::geography) / 1e6 FROM pgstac.items "
                                 "WHERE collection = 'airbus-archive'").fetchall())
    assert {s.id: round(rows[s.id] / s.km**2, 1) for s in ARCHIVE_SCENES} == {s.id: 1.0 for s in ARCHIVE_SCENES}
    again = load_archive_scenes(empty_catalogue)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, len(ARCHIVE_SCENES))
