"""Servers with authentication (issue 11 item 5, SECURITY.md G1): PostgreSQL asks every role for its
SCRAM password, FerretDB gives nothing to a client without credentials and each service's FerretDB
user reaches only its own database; the secrets are generated per profile, 0600, never committed.

The stack's own start functions on a private stack (its own state directory and ports: the shared
test servers keep running for everyone else): PostgreSQL and FerretDB as ``dinamis up`` starts them.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

ROOT = Path(__file__).resolve().parents[2]


def _private(name: str, root: Path):
    from dinamis_cli.stack import load_profile
    from dinamis_cli.stack.profile import Profile
    from dinamis_testkit.inprocess import free_port

    own = {port: free_port() for port in ("postgres", "ferretdb", "ferretdb_debug")}
    return Profile(name, root, {**load_profile("test").ports, **own})


def _stop(profile) -> None:
    from dinamis_cli.stack import servers

    for name in ("ferretdb", "postgres"):
        servers.server(name).stop(profile)
    base = servers.pg_dirs(profile)[0].parent
    if str(base).startswith("/var/tmp/dinamis/"):  # where pg_dirs puts an unreachable profile's data
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator:
    """PostgreSQL and FerretDB of a fresh, ephemeral profile (as ``make test`` starts them)."""
    from dinamis_cli.stack import servers

    with pytest.MonkeyPatch.context() as env:
        for variable in ("POSTGRES_DSN", "MONGODB_URI"):  # the stack's own servers, not someone else's
            env.delenv(variable, raising=False)
        profile = _private("test", tmp_path_factory.mktemp("auth-stack"))
        try:
            servers.start_postgres(profile)
            servers.start_ferretdb(profile)
            yield profile
        finally:
            _stop(profile)


def _mongo(uri: str) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=5000, timeoutMS=10_000)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()


def test_postgresql_refuses_a_role_without_its_password_on_loopback_and_on_the_socket(stack):
    from dinamis_cli.stack import servers

    port = stack.ports["postgres"]
    sockets = servers.pg_dirs(stack)[1]
    refused = [f"postgresql://dinamis@127.0.0.1:{port}/postgres",  # the administrator, no password
               f"postgresql://dinamis:wrong@127.0.0.1:{port}/postgres",
               f"postgresql://catalogue@127.0.0.1:{port}/dinamis",
               f"postgresql://postgres@127.0.0.1:{port}/postgres",
               f"host={sockets} port={port} user=dinamis dbname=postgres"]  # the Unix socket asks too
    for dsn in refused:
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(dsn, connect_timeout=5)
    with psycopg.connect(stack.postgres_admin_dsn("postgres")) as conn:  # with it, in
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
    assert methods == {"scram-sha-256"}


def test_ferretdb_gives_nothing_to_a_client_without_credentials_or_with_wrong_ones(stack):
    with _mongo(stack.mongodb_uri) as admin:
        admin["dinamis_accounts"]["people"].insert_one({"_id": "p-1", "email": "alice@example.org"})
    anonymous = _without_credentials(stack.mongodb_uri).split("?")[0]
    wrong = stack.service_mongodb_uri("accounts").replace(stack.password("dinamis_accounts"), "wrong")
    for uri in (anonymous, wrong):
        with _mongo(uri) as client:
            with pytest.raises(OperationFailure):
                client.list_database_names()
            with pytest.raises(OperationFailure):
                client["dinamis_accounts"]["people"].find_one()
            with pytest.raises(OperationFailure):
                client["dinamis_accounts"]["people"].insert_one({"_id": "intruder"})
    with _mongo(stack.mongodb_uri) as admin:
        assert [d["_id"] for d in admin["dinamis_accounts"]["people"].find()] == ["p-1"]


def test_a_services_ferretdb_user_cannot_read_write_or_drop_another_services_database(stack):
    with _mongo(stack.service_mongodb_uri("accounts")) as accounts:
        accounts["dinamis_accounts"]["mails"].insert_one({"_id": "m-1", "token": "secret-link-token"})
        assert accounts["dinamis_accounts"]["mails"].find_one({"_id": "m-1"})["token"] == "secret-link-token"
    with _mongo(stack.service_mongodb_uri("requests")) as requests:
        requests["dinamis_requests"]["requests"].insert_one({"_id": "r-1"})  # its own: yes
        with pytest.raises(OperationFailure, match="permission denied"):
            requests["dinamis_accounts"]["mails"].find_one()
        with pytest.raises(OperationFailure, match="permission denied"):
            requests["dinamis_accounts"]["mails"].insert_one({"_id": "m-2"})
        with pytest.raises(OperationFailure, match="permission denied"):
            requests["dinamis_accounts"]["elsewhere"].insert_one({"_id": "m-3"})
        with pytest.raises(OperationFailure):
            requests.drop_database("dinamis_accounts")
    with _mongo(stack.service_mongodb_uri("accounts")) as accounts:
        with pytest.raises(OperationFailure, match="permission denied"):
            accounts["dinamis_requests"]["requests"].find_one()
        assert [d["_id"] for d in accounts["dinamis_accounts"]["mails"].find()] == ["m-1"]  # untouched
    with _mongo(stack.mongodb_uri) as admin:  # the tests' administrator: any database, a test's own too
        assert admin["dinamis_requests"]["requests"].find_one() == {"_id": "r-1"}
        admin["t0_accounts"]["x"].insert_one({"_id": 1})
        admin.drop_database("t0_accounts")


def test_each_service_is_given_credentials_of_its_own_that_reach_only_its_own_data(stack):
    from dinamis_cli.catalogue import ARCHIVE_SCENES, load_archive_scenes
    from dinamis_cli.stack.profile import SERVICES

    admin_password = stack.password("dinamis")
    seen = set()
    for name in SERVICES:
        env = stack.service_env(name)
        mongo = urlsplit(env["MONGODB_URI"])
        assert (mongo.username, env["MONGODB_DATABASE"]) == (f"dinamis_{name}", f"dinamis_{name}")
        assert "authMechanism=PLAIN" in mongo.query
        assert admin_password not in "".join(env.values()), name  # nobody holds the administrator's password
        with _mongo(env["MONGODB_URI"]) as client:
            assert client["admin"].command("ping")["ok"] == 1
        seen.add(mongo.password)
        if name in ("catalogue", "gateway"):
            assert urlsplit(env["POSTGRES_DSN"]).username == name
            seen.add(urlsplit(env["POSTGRES_DSN"]).password)
        else:
            assert "POSTGRES_DSN" not in env  # a service without PostgreSQL gets no role there
    assert len(seen) == len(SERVICES) + 2  # a password per role
    catalogue, gateway = stack.service_env("catalogue")["POSTGRES_DSN"], stack.service_env("gateway")["POSTGRES_DSN"]
    with psycopg.connect(gateway, autocommit=True) as conn:  # what the gateway does at its start
        conn.execute("CREATE SCHEMA IF NOT EXISTS gateway")
        conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS gateway.rate_counters (key text PRIMARY KEY)")
        conn.execute("INSERT INTO gateway.rate_counters VALUES ('ip:127.0.0.1') ON CONFLICT DO NOTHING")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM pgstac.items")
    started = subprocess.run([sys.executable, "-m", "catalogue_service.entrypoints.cli", "prepare"],
                             env={**os.environ, "POSTGRES_DSN": catalogue}, capture_output=True, text=True,
                             timeout=300, check=False)  # what the catalogue does at its start, as its own role
    assert started.returncode == 0, started.stderr[-2000:]
    with psycopg.connect(catalogue, autocommit=True, options="-c search_path=pgstac,public") as conn:
        assert conn.execute("SELECT count(*) FROM pgstac.collections").fetchone()[0] > 0  # pgstac ready for it
        assert conn.execute("SELECT search('{}'::jsonb)->'numberReturned'").fetchone() == (0,)
    load_archive_scenes(stack.postgres_dsn)  # what dinamis up and the tests load, as the administrator
    with psycopg.connect(catalogue, autocommit=True, options="-c search_path=pgstac,public") as conn:
        found = conn.execute("SELECT search('{\"limit\": 1000}'::jsonb)->'numberReturned'").fetchone()[0]
        assert found == len(ARCHIVE_SCENES)  # the catalogue's role reads what the administrator ingested
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM gateway.rate_counters")
    for dsn in (catalogue, gateway):  # FerretDB's tables only through FerretDB, as a service's own user
        with pytest.raises(psycopg.OperationalError, match="CONNECT"):
            psycopg.connect(dsn.rsplit("/", 1)[0] + "/ferretdb", connect_timeout=5)
    with psycopg.connect(stack.postgres_url("keycloak", "keycloak"), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS realm_probe (id int)")  # Keycloak owns its database
    with pytest.raises(psycopg.OperationalError, match="CONNECT"):
        psycopg.connect(stack.postgres_url("keycloak", "dinamis"), connect_timeout=5)


def test_the_secrets_are_0600_in_the_profiles_state_and_never_in_the_repository(stack):
    from dinamis_cli.stack import load_profile

    secrets = sorted(stack.path("postgres").iterdir())
    assert {p.name for p in secrets} >= {"dinamis", "catalogue", "gateway", "keycloak", "dinamis_accounts"}
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not stack.state_dir.is_relative_to(ROOT)
    shared = load_profile("test")
    shared.password("dinamis")  # the shared test profile's, as the tests' fixtures read it
    for path in shared.path("postgres").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        relative = str(path.relative_to(ROOT))
        ignored = subprocess.run(["git", "check-ignore", "-q", relative], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{relative} is not ignored by git"
    tracked = subprocess.run(["git", "ls-files", str(shared.state_dir.relative_to(ROOT))], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert tracked == ""


def test_a_kept_profiles_trusting_data_directory_is_converted_with_its_data(tmp_path, monkeypatch):
    """A development data directory made before passwords (``initdb --auth=trust``, FerretDB's schemas
    owned by the administrator) keeps its data and lets nobody in without a password afterwards."""
    from dinamis_cli.stack import process, servers

    for variable in ("POSTGRES_DSN", "MONGODB_URI"):
        monkeypatch.delenv(variable, raising=False)
    profile = _private("dev", tmp_path)
    data, sockets = servers.pg_dirs(profile)
    port = profile.ports["postgres"]
    try:
        for d in (data, sockets):
            d.mkdir()
            servers._chown_postgres(d)
        subprocess.run(servers._as_postgres([str(servers.PG_BIN / "initdb"), "-D", str(data), "-U", "dinamis",
                                             "--auth=trust", "--no-instructions"]),
                       check=True, stdout=subprocess.DEVNULL, cwd=data)
        pid = process.spawn(profile, "postgres", servers._as_postgres([
            str(servers.PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
            "-c", "listen_addresses=127.0.0.1"]), cwd=data)
        trusting = f"postgresql://dinamis@127.0.0.1:{port}/postgres"
        process.wait_until(lambda: servers.postgres_ready(profile), 60, "PostgreSQL", pid,
                           process.log_file(profile, "postgres"))
        with psycopg.connect(trusting, autocommit=True) as conn:  # what the old stack and FerretDB left
            conn.execute('CREATE DATABASE "ferretdb"')
        with psycopg.connect(trusting.rsplit("/", 1)[0] + "/ferretdb", autocommit=True) as conn:
            conn.execute("CREATE SCHEMA dinamis_accounts")
            conn.execute("CREATE TABLE dinamis_accounts.people (_jsonb jsonb)")
            conn.execute("""INSERT INTO dinamis_accounts.people VALUES ('{"_id": "kept"}')""")
        servers.server("postgres").stop(profile)

        servers.start_postgres(profile)

        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(trusting, connect_timeout=5)
        role = profile.postgres_url("dinamis_accounts", "ferretdb")
        with psycopg.connect(role) as conn:  # handed over to the service's own user
            assert conn.execute("SELECT _jsonb->>'_id' FROM dinamis_accounts.people").fetchall() == [("kept",)]
        with psycopg.connect(profile.postgres_url("dinamis_requests", "ferretdb")) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM dinamis_accounts.people")
    finally:
        _stop(profile)
