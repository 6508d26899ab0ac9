"""The stack's index support on FerretDB's own tables, on the real FerretDB and PostgreSQL: a lookup
by ``_id`` (or another declared field) is an index scan instead of a scan of every document."""

from __future__ import annotations

import psycopg
import pytest
from dinamis_cli.stack import load_profile
from dinamis_cli.stack.indexes import CHANGE_FIELDS, FIELDS, ensure, ferretdb_dsn, wanted
from psycopg import sql
from pymongo import MongoClient

pytestmark = pytest.mark.integration


@pytest.fixture
def database(servers, unique):
    client = MongoClient(servers.mongodb_uri)
    name = f"it_gin_{unique}"
    client[name]["requests"].insert_many([{"_id": f"req-{i:04d}", "status": "ordered" if i % 2 else "submitted",
                                           "title": f"Request {i}", "requester": {"user_id": f"u{i % 7}"}}
                                          for i in range(2000)])
    client[name]["requests_changes"].insert_one({"_id": "req-0001:2", "aggregate": "req-0001", "cause": "e1",
                                                 "outbox_pending": True})
    yield client[name], load_profile("test")
    client.drop_database(name)
    client.close()


def _plan(conn, schema: str, table: str, field: str, value: str) -> str:
    """PostgreSQL's plan for the query FerretDB sends for ``{field: value}``."""
    relation = sql.Identifier(schema, table)
    conn.execute(sql.SQL("ANALYZE {}").format(relation))
    rows = conn.execute(sql.SQL("EXPLAIN SELECT _jsonb FROM {} WHERE _jsonb->{} @> %s::jsonb").format(
        relation, sql.Literal(field)), (f'"{value}"',)).fetchall()
    return "\n".join(r[0] for r in rows)


def test_every_collection_gets_its_indexes_once_and_lookups_use_them(database):
    db, profile = database
    made = ensure(profile, databases=[db.name])
    assert {(i.collection, i.field) for i in made} == {
        *(("requests", f) for f in FIELDS), *(("requests_changes", f) for f in CHANGE_FIELDS)}
    assert ensure(profile, databases=[db.name]) == []  # safe to re-run

    with psycopg.connect(ferretdb_dsn(profile), autocommit=True) as conn:
        table = next(i.table for i in wanted(conn, databases=[db.name]) if i.collection == "requests")
        plan = _plan(conn, db.name, table, "_id", "req-1500")
        assert "Index Scan" in plan and "_gin" in plan, plan
        assert "Seq Scan" not in plan, plan
    assert db["requests"].find_one({"_id": "req-1500"})["title"] == "Request 1500"  # FerretDB reads as before
    assert db["requests"].count_documents({"status": "ordered"}) == 1000
    assert db["requests_changes"].find_one({"aggregate": "req-0001", "outbox_pending": True})["_id"] == "req-0001:2"


def test_an_index_left_invalid_by_an_interrupted_build_is_rebuilt(database):
    db, profile = database
    [index] = [i for i in ensure(profile, databases=[db.name]) if i.collection == "requests" and i.field == "_id"]
    with psycopg.connect(ferretdb_dsn(profile), autocommit=True) as conn:
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                     (f'"{index.schema}"."{index.name}"',))
        assert [i.name for i in ensure(profile, databases=[db.name])] == [index.name]
        valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
                             (f'"{index.schema}"."{index.name}"',)).fetchone()[0]
    assert valid
