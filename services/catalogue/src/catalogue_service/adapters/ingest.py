"""Ingest STAC items (NDJSON) into pgstac.

Each item is checked (valid geometry, datetime, known collection); a bad one is reported with its
line and reason and never stops the run. Good ones are upserted by (collection, id) in the rows
pgstac expects (``pypgstac.hydration.dehydrate`` against the collection's base item, EWKB
geometry, one partition per collection), and the report says which were added, updated or left
unchanged (``RETURNING`` of the upsert: an identical item is not rewritten).

Why not ``pypgstac``'s ``Loader.load_items``: it converts every geometry to WKB in pure Python
(plpygis: two thirds of its formatting time), cannot say added from updated from unchanged, and
parses, formats and writes one after the other. Here shapely validates and encodes a whole batch
at once in C, and a reader thread parses and formats the next batch while PostgreSQL writes the
current one (``bench/catalogue`` measures both on the same file and server).
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
import shapely
from psycopg import sql
from pypgstac.hydration import dehydrate

Progress = Callable[[int], None]


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.failed)


def check(item: Any, collections: set[str]) -> str | None:
    """Why this item cannot be ingested (everything but its geometry's validity), or ``None``."""
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return "not a STAC item (type must be Feature)"
    if not isinstance(item.get("id"), str) or not item["id"]:
        return "missing id"
    if item.get("collection") not in collections:
        return f"unknown collection {item.get('collection')!r}"
    props = item.get("properties")
    if not isinstance(props, dict):
        return "missing properties"
    if not props.get("datetime") and not (props.get("start_datetime") and props.get("end_datetime")):
        return "missing datetime (or start_datetime and end_datetime)"
    if props.get("start_datetime") and props.get("end_datetime") and props["start_datetime"] > props["end_datetime"]:
        return "start_datetime is after end_datetime"
    if not isinstance(item.get("geometry"), dict):
        return "missing geometry"
    return None


def geometries(items: list[dict[str, Any]]) -> tuple[list[str | None], list[str | None]]:
    """(EWKB hex or None, why not) for each item's geometry, the whole batch at once."""
    geoms = shapely.from_geojson([orjson.dumps(i["geometry"]) for i in items], on_invalid="ignore")
    reasons = shapely.is_valid_reason(geoms)
    ok = shapely.is_valid(geoms) & ~shapely.is_empty(geoms)
    wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    out_wkb: list[str | None] = []
    out_why: list[str | None] = []
    for good, geom, why, hexa in zip(ok, geoms, reasons, wkb, strict=True):
        if good:
            out_wkb.append(hexa)
            out_why.append(None)
        else:
            out_wkb.append(None)
            out_why.append("geometry is not GeoJSON" if geom is None else
                           "empty geometry" if shapely.is_empty(geom) else f"invalid geometry: {why}")
    return out_wkb, out_why


@dataclass
class Batch:
    groups: dict[tuple[str, str], list[tuple]]  # (collection, date bucket) -> rows
    failed: list[tuple[int, str]]
    lines: int


class Collections:
    """Base item, key and partitioning of each collection (pgstac's ``current_base_item``)."""

    def __init__(self, conn: psycopg.Connection, names: set[str]) -> None:
        self.info: dict[str, tuple[dict[str, Any], str | None, int | None]] = {}
        for name in names:
            found = conn.execute(
                "SELECT b.base_item, c.partition_trunc, b.base_item_id "
                "FROM pgstac.collections c, pgstac.current_base_item(c.id) b WHERE c.id = %s", (name,)).fetchone()
            if found:
                self.info[name] = found

    def row(self, item: dict[str, Any], wkb: str) -> tuple[str, tuple]:
        """(date bucket of its partition, the row pgstac stores) for one checked item."""
        base, trunc, base_id = self.info[item["collection"]]
        props = item["properties"]
        if props.get("start_datetime") and props.get("end_datetime"):
            start, end = props["start_datetime"], props["end_datetime"]
        else:
            start = end = props["datetime"]
        content = dehydrate(base, item)
        for key in ("id", "collection", "geometry", "pgstac:base_item"):
            content.pop(key, None)
        if base_id is not None:
            content["pgstac:base_item"] = base_id
        private = content.pop("private", None)
        bucket = start[:4] if trunc == "year" else start[:7] if trunc == "month" else ""
        return bucket, (item["id"], item["collection"], start, end, wkb, orjson.dumps(content).decode(),
                        None if private is None else orjson.dumps(private).decode())


def batches(lines: Iterable[str | bytes], collections: Collections, size: int) -> Iterator[Batch]:
    """Parse, check and format ``size`` items at a time; a key seen twice ends the batch early (the
    second occurrence wins, as it would if the file were loaded line by line)."""
    known = set(collections.info)
    numbered: list[tuple[int, dict[str, Any]]] = []
    failed: list[tuple[int, str]] = []
    keys: set[tuple[str, str]] = set()
    read = 0

    def cut() -> Batch:
        nonlocal read
        wkb, why = geometries([item for _, item in numbered])
        groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        for (number, item), hexa, reason in zip(numbered, wkb, why, strict=True):
            if hexa is None:
                failed.append((number, reason or "invalid geometry"))
                continue
            bucket, row = collections.row(item, hexa)
            groups[(item["collection"], bucket)].append(row)
        batch = Batch(dict(groups), sorted(failed), read)
        numbered.clear(), failed.clear(), keys.clear()
        read = 0
        return batch

    for number, line in enumerate(lines, start=1):
        read += 1
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            failed.append((number, f"not JSON: {exc}"))
            continue
        reason = check(item, known)
        if reason:
            failed.append((number, reason))
            continue
        key = (item["collection"], item["id"])
        if key in keys:
            yield cut()
        keys.add(key)
        numbered.append((number, item))
        if len(numbered) >= size:
            yield cut()
    if numbered or failed or read:
        yield cut()


def read_ahead(source: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """Run ``source`` in a thread, ``depth`` batches ahead of the writer."""
    box: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in source:
                while not stop.is_set():
                    try:
                        box.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(None)
        except BaseException as exc:  # handed to the writer, which raises it
            box.put(exc)

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while (got := box.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        thread.join(timeout=5)


UPSERT = """
INSERT INTO {} AS t SELECT * FROM ingest_rows
ON CONFLICT (id) DO UPDATE SET datetime = EXCLUDED.datetime, end_datetime = EXCLUDED.end_datetime,
    geometry = EXCLUDED.geometry, content = EXCLUDED.content, private = EXCLUDED.private
WHERE t IS DISTINCT FROM EXCLUDED
RETURNING (xmax = 0)
"""


class Writer:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.ensured: dict[tuple[str, str], tuple[str, str, str, str, str]] = {}  # -> ranges, partition
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS ingest_rows (LIKE pgstac.items)")
        conn.commit()

    def partition(self, group: tuple[str, str], rows: list[tuple]) -> str:
        """The partition for these rows, created or widened by pgstac's ``check_partition`` only
        when they fall outside what it already covers."""
        lo, hi = min(r[2] for r in rows), max(r[2] for r in rows)
        elo, ehi = min(r[3] for r in rows), max(r[3] for r in rows)
        known = self.ensured.get(group)
        if known and known[0] <= lo and hi <= known[1] and known[2] <= elo and ehi <= known[3]:
            return known[4]
        if known:
            lo, hi, elo, ehi = min(lo, known[0]), max(hi, known[1]), min(elo, known[2]), max(ehi, known[3])
        with self.conn.transaction():
            self.conn.execute("SELECT pgstac.check_partition(%s, tstzrange(%s, %s, '[]'), tstzrange(%s, %s, '[]'))",
                              (group[0], lo, hi, elo, ehi))
            name = self.conn.execute("SELECT partition_name FROM pgstac.partition_name(%s, %s)",
                                     (group[0], lo)).fetchone()[0]
        self.ensured[group] = (lo, hi, elo, ehi, name)
        return name

    def write(self, group: tuple[str, str], rows: list[tuple], report: Report) -> str:
        """Rows none of which exist yet are copied straight into their partition; otherwise they go
        through a staging table and one upsert that leaves identical rows alone."""
        name = self.partition(group, rows)
        table = sql.Identifier("pgstac", name)
        columns = "(id, collection, datetime, end_datetime, geometry, content, private)"
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(sql.SQL("LOCK TABLE ONLY {} IN EXCLUSIVE MODE").format(table))  # one writer per partition
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE id = ANY(%s)").format(table), ([r[0] for r in rows],))
            if cur.fetchone()[0] == 0:
                with cur.copy(sql.SQL("COPY {} " + columns + " FROM STDIN").format(table)) as copy:
                    for row in rows:
                        copy.write_row(row)
                report.added += len(rows)
                return name
            cur.execute("TRUNCATE ingest_rows")
            with cur.copy("COPY ingest_rows " + columns + " FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(sql.SQL(UPSERT).format(table))
            written = [inserted for (inserted,) in cur.fetchall()]
        added = sum(written)
        report.added += added
        report.updated += len(written) - added
        report.unchanged += len(rows) - len(written)
        return name


def connect(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn)
    conn.execute("SET search_path TO pgstac, public")  # pgstac's functions call each other unqualified
    conn.commit()
    return conn


def ingest(dsn: str, lines: Iterable[str | bytes], collections: set[str], batch: int = 10_000,
           progress: Progress = lambda _n: None) -> Report:
    """Load NDJSON ``lines`` into the catalogue at ``dsn``; ``collections`` are the ones accepted."""
    report = Report()
    with connect(dsn) as conn:
        known = Collections(conn, collections)
        writer = Writer(conn)
        touched: set[str] = set()
        for chunk in read_ahead(batches(lines, known, batch)):
            for group, rows in chunk.groups.items():
                touched.add(writer.write(group, rows, report))
            report.failed.extend(chunk.failed)
            progress(chunk.lines)
        for name in sorted(touched):  # pgstac's per-partition statistics, once per run
            conn.execute("SELECT pgstac.update_partition_stats_q(%s)", (name,))
        conn.commit()
    return report


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
    with connect(dsn) as conn:
        conn.execute("SELECT pgstac.update_collection_extents()")
        conn.execute(SUMMARIES)


def upsert_collections(dsn: str, collections: list[dict[str, Any]]) -> None:
    """Create or replace these collections (pgstac's ``upsert_collection``), before their items."""
    with connect(dsn) as conn:
        for c in collections:
            conn.execute("SELECT pgstac.upsert_collection(%s::jsonb)", (orjson.dumps(c).decode(),))
