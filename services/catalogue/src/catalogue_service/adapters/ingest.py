"""Ingest STAC items (NDJSON) into pgstac: each item checked (valid geometry, datetime, known
collection), bad ones reported with their line and reason without stopping the run, good ones
upserted by (collection, id) with pypgstac's own loader (same speed as ``pypgstac load``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pypgstac.db import PgstacDB
from pypgstac.load import Loader, Methods
from shapely.geometry import shape
from shapely.validation import explain_validity


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + len(self.failed)


def check(item: Any, collections: set[str]) -> str | None:
    """Why this item cannot be ingested, or ``None``."""
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return "not a STAC item (type must be Feature)"
    if not isinstance(item.get("id"), str) or not item["id"]:
        return "missing id"
    if item.get("collection") not in collections:
        return f"unknown collection {item.get('collection')!r}"
    props = item.get("properties") or {}
    if not props.get("datetime") and not (props.get("start_datetime") and props.get("end_datetime")):
        return "missing datetime (or start_datetime and end_datetime)"
    try:
        geom = shape(item["geometry"])
    except Exception as exc:
        return f"geometry is not GeoJSON: {exc}"
    if geom.is_empty or not geom.is_valid:
        return f"invalid geometry: {explain_validity(geom)}"
    return None


def read_ndjson(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, exc


def ingest(dsn: str, lines: Iterable[str], collections: set[str], batch: int = 10_000,
           progress: Callable[[int], None] = lambda _n: None) -> Report:
    report = Report()
    with PgstacDB(dsn=dsn) as db:
        loader = Loader(db=db)
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            if not pending:
                return
            existing = _existing(db, pending)
            loader.load_items(iter(pending), insert_mode=Methods.upsert)
            report.updated += existing
            report.added += len(pending) - existing
            progress(len(pending))
            pending.clear()

        for number, item in read_ndjson(lines):
            reason = f"not JSON: {item}" if isinstance(item, Exception) else check(item, collections)
            if reason:
                report.failed.append((number, reason))
                progress(1)
                continue
            pending.append(item)
            if len(pending) >= batch:
                flush()
        flush()
    return report


def _existing(db: PgstacDB, items: list[dict[str, Any]]) -> int:
    keys = [f"{i['collection']}/{i['id']}" for i in items]
    rows = list(db.query("SELECT count(*) FROM pgstac.items WHERE collection || '/' || id = ANY(%s)", [keys]))
    return int(rows[0][0]) if rows else 0


SUMMARIES = """
WITH stats AS (
    SELECT collection,
           min((content->'properties'->>'eo:cloud_cover')::float) AS cloud_min,
           max((content->'properties'->>'eo:cloud_cover')::float) AS cloud_max,
           jsonb_agg(DISTINCT content->'properties'->'platform')
               FILTER (WHERE content->'properties' ? 'platform') AS platforms
    FROM pgstac.items GROUP BY collection
)
UPDATE pgstac.collections c
SET content = jsonb_set(jsonb_set(c.content, '{summaries,eo:cloud_cover}',
                                  jsonb_build_object('minimum', s.cloud_min, 'maximum', s.cloud_max)),
                        '{summaries,platform}', coalesce(s.platforms, c.content->'summaries'->'platform'))
FROM stats s WHERE s.collection = c.id AND s.cloud_min IS NOT NULL
"""


def refresh_collections(dsn: str) -> None:
    """Extents (pgstac's own function) and summaries (cloud range, platforms) follow the items."""
    with PgstacDB(dsn=dsn) as db:
        list(db.query("SELECT pgstac.update_collection_extents()"))
        with db.connect().cursor() as cur:
            cur.execute(SUMMARIES)
