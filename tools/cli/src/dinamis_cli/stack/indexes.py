"""Index support for FerretDB's PostgreSQL tables, created by the stack (not by the services).

FerretDB pushes a top-level equality down as ``_jsonb->'field' @> value``; its own indexes are
B-trees on ``_jsonb->'field'``, which that operator cannot use, so every such lookup is a
sequential scan parsing every document. A GIN index with ``jsonb_path_ops`` on the same
expression serves it (FERRETDB.md "Speed": 11.6 ms -> 0.09 ms at 1,506 documents). Production
runs MongoDB, whose own indexes (created by the services) do this job.

Run after the services created their collections (``dinamis up``, ``start_services``); safe to
run again, and again after new collections appear (``dinamis stack index``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dinamis_cli.stack.profile import Profile

# The top-level fields looked up by equality on hot paths. Change logs (``<aggregates>_changes``,
# see dinamis_common.messaging.outbox): a version claim by id, an applied event by its cause, an
# aggregate's pending changes, what the relays still have to send. Other collections: aggregates
# by id, read models and lists by entity, request, owner or status.
CHANGE_FIELDS = ("_id", "cause", "aggregate", "outbox_pending", "mails_pending")
FIELDS = ("_id", "entity_id", "request_id", "owner_id", "status", "tile")


def fields_of(collection: str, fields: tuple[str, ...] = FIELDS) -> tuple[str, ...]:
    return CHANGE_FIELDS if collection.endswith("_changes") else fields


@dataclass(frozen=True)
class Index:
    schema: str  # a FerretDB database
    table: str  # a FerretDB collection's table
    collection: str
    field: str

    @property
    def name(self) -> str:
        digest = hashlib.sha1(f"{self.table}.{self.field}".encode(), usedforsecurity=False).hexdigest()[:8]
        return f"{self.table[:40]}_{self.field.strip('_')[:8]}_{digest}_gin"


def ferretdb_dsn(profile: Profile) -> str:
    """FerretDB's own PostgreSQL database (where its tables are), as the administrator."""
    return profile.postgres_admin_dsn("ferretdb")


def wanted(conn: psycopg.Connection, fields: tuple[str, ...] = FIELDS,
           databases: Iterable[str] | None = None) -> list[Index]:
    """One index per field for every collection of every FerretDB database (each a schema with a
    ``_ferretdb_database_metadata`` table naming its collections' tables)."""
    schemas = [r[0] for r in conn.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = '_ferretdb_database_metadata' "
        "ORDER BY table_schema")]
    if databases is not None:
        schemas = [s for s in schemas if s in set(databases)]
    found = []
    for schema in schemas:
        try:
            rows = conn.execute(sql.SQL("SELECT _jsonb->>'_id', _jsonb->>'table' FROM {}._ferretdb_database_metadata")
                                .format(sql.Identifier(schema))).fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            continue  # the database was dropped meanwhile
        found.extend(Index(schema, table, collection, f) for collection, table in sorted(rows)
                     for f in fields_of(collection, fields))
    return found


def _state(conn: psycopg.Connection, index: Index) -> bool | None:
    """``None``: absent; else whether it is valid (a concurrent build that failed leaves it invalid)."""
    row = conn.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
                       (index.schema, index.name)).fetchone()
    return None if row is None else bool(row[0])


def ensure(profile: Profile, fields: tuple[str, ...] = FIELDS, databases: Iterable[str] | None = None) -> list[Index]:
    """Creates the indexes that are missing (concurrently: the services keep writing), in every
    FerretDB database or in ``databases``; returns those it created."""
    try:
        conn = psycopg.connect(ferretdb_dsn(profile), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):
            return []  # no FerretDB on this PostgreSQL (the MongoDB-wire server is a real MongoDB)
        raise
    created = []
    with conn:
        for index in wanted(conn, fields, databases):
            state = _state(conn, index)
            if state:
                continue
            if state is False:
                conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                    sql.Identifier(index.schema), sql.Identifier(index.name)))
            try:
                conn.execute(sql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {}.{} USING gin "
                                     "((_jsonb -> {}) jsonb_path_ops)").format(
                    sql.Identifier(index.name), sql.Identifier(index.schema), sql.Identifier(index.table),
                    sql.Literal(index.field)))
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
                continue  # the collection was dropped meanwhile
            created.append(index)
    return created
