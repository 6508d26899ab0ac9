"""A catalogue database of a test's own: PostGIS, pgstac and the catalogue's collections on the
stack's PostgreSQL, optionally holding items (ingested by the catalogue's own loader), dropped after."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo


def with_database(dsn: str, name: str) -> str:
    """``dsn`` pointing at database ``name`` (same server, same credentials)."""
    return make_conninfo(dsn, dbname=name) if "://" not in dsn else f"{dsn.rpartition('/')[0]}/{name}"


@contextmanager
def stac_database(admin_dsn: str, prefix: str, items: Iterable[dict[str, Any]] = (),
                  prepared: bool = True) -> Iterator[str]:
    """A fresh database named ``<prefix>_<random>``; its DSN. ``prepared``: with pgstac and the
    catalogue's collections (else PostGIS only, as a catalogue that prepares itself at start finds it)."""
    from catalogue_service.adapters.ingest import ingest
    from catalogue_service.adapters.pgstac import prepare
    from catalogue_service.domain.collections import DEFINITIONS, all_collections

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"  # unique: other sessions use the same server
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin_dsn, name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if prepared:
            prepare(dsn, all_collections())
        lines = [json.dumps(i) for i in items]
        if lines:
            report = ingest(dsn, lines, set(DEFINITIONS))
            assert report.added == len(lines) and not report.failed, report
        yield dsn
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
