"""The real servers, as local processes: PostgreSQL 15 + PostGIS, Kafka 4.3 (KRaft), FerretDB,
an SMTP sink (``mail``), Keycloak 26 (identity provider, on the same PostgreSQL), SeaweedFS (``objectstore``,
S3-compatible).

Installed by ``scripts/install/*.sh`` into a cache shared by every clone and profile
(``~/.cache/dinamis``); data under the profile's state directory. ``REGISTRY`` (at the end) is
the one description of each: how it is installed, started, checked and stopped, and what the
services are told to reach it. Everything else iterates it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from pymongo import MongoClient

from dinamis_cli.stack import keycloak, mail, process
from dinamis_cli.stack.profile import (
    KEYCLOAK_ROLE,
    POSTGRES_ADMIN,
    POSTGRES_ROLES,
    SERVICES,
    Profile,
    cache_dir,
    ferretdb_role,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.3.1")
FERRETDB_VERSION = os.environ.get("FERRETDB_VERSION", "v1.24.2")


# --- PostgreSQL --------------------------------------------------------------------------

def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]


def _chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def postgres_ready(profile: Profile) -> bool:
    try:
        with psycopg.connect(profile.postgres_admin_dsn("postgres"), connect_timeout=2) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents) if p.exists())


def pg_dirs(profile: Profile) -> tuple[Path, Path]:
    """Data and socket directories. Under the state directory when the ``postgres`` user can
    reach it; otherwise (a clone under /root, say) in a directory of its own under /var/tmp."""
    profile.state_dir.mkdir(parents=True, exist_ok=True)
    base = profile.state_dir
    if os.geteuid() == 0 and not _traversable_by_others(profile.state_dir.parent):
        digest = hashlib.sha1(str(profile.state_dir).encode(), usedforsecurity=False).hexdigest()[:10]
        base = Path("/var/tmp/dinamis") / f"{profile.name}-{digest}"  # noqa: S108 - owned dir, 0755
        base.mkdir(parents=True, exist_ok=True)
        for p in (base.parent, base):
            os.chmod(p, 0o755)  # noqa: S103 - the postgres user must traverse it
    else:
        os.chmod(profile.state_dir, 0o755)  # noqa: S103 - the postgres user must traverse it
    return base / "pg", base / "pg-run"


# Every connection gives its role's password (SCRAM), on the socket as on loopback.
PG_HBA = """# written by the dinamis stack (servers.py): no trust, a password for every role
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""


def _trusting(data: Path) -> bool:
    """Whether this data directory still lets someone in without a password (made before the stack had any)."""
    hba = data / "pg_hba.conf"
    return not hba.exists() or any(line.split()[-1:] == ["trust"] for line in hba.read_text().splitlines()
                                   if line.strip() and not line.lstrip().startswith("#"))


def _initdb(profile: Profile, data: Path) -> None:
    pwfile = data.parent / f".{data.name}-pwfile"  # read by initdb as the postgres user, removed right after
    pwfile.touch(mode=0o600)
    _chown_postgres(pwfile)
    try:
        pwfile.write_text(profile.password(POSTGRES_ADMIN) + "\n")
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", POSTGRES_ADMIN,
                                     "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-instructions"]),
                       check=True, stdout=subprocess.DEVNULL, cwd=data)
    finally:
        pwfile.unlink(missing_ok=True)


def start_postgres(profile: Profile) -> None:
    """PostgreSQL with SCRAM passwords for every role. A data directory of a profile that predates them
    (``trust``) is recreated when the profile is ephemeral (test), else converted: the administrator's
    password set while it still trusts, then pg_hba.conf rewritten and reloaded."""
    data, sockets = pg_dirs(profile)
    converting = (data / "PG_VERSION").exists() and _trusting(data)
    if converting and _ephemeral(profile):
        shutil.rmtree(data)
        converting = False
    for d in (data, sockets):
        d.mkdir(exist_ok=True)
        _chown_postgres(d)
    if not (data / "PG_VERSION").exists():
        _initdb(profile, data)
    pid = process.spawn(profile, "postgres", _as_postgres([
        str(PG_BIN / "postgres"), "-D", str(data), "-p", str(profile.ports["postgres"]), "-k", str(sockets),
        "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "password_encryption=scram-sha-256",
        "-c", "fsync=off" if _ephemeral(profile) else "fsync=on"]), cwd=data)
    process.wait_until(lambda: postgres_ready(profile), 60, "PostgreSQL", pid, process.log_file(profile, "postgres"))
    with psycopg.connect(profile.postgres_admin_dsn("postgres"), autocommit=True) as conn:
        if converting:  # still trusting: the password first, then nobody gets in without one
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(POSTGRES_ADMIN), sql.Literal(profile.password(POSTGRES_ADMIN))))
        hba = data / "pg_hba.conf"
        if not hba.exists() or hba.read_text() != PG_HBA:
            hba.write_text(PG_HBA)
            _chown_postgres(hba)
            conn.execute("SELECT pg_reload_conf()")
    provision_postgres(profile)


def _ephemeral(profile: Profile) -> bool:
    return profile.name == "test"  # test data is thrown away: no need to fsync it


def _role(conn: psycopg.Connection, profile: Profile, role: str) -> None:
    """A login role with the profile's password for it (set again each time: the secret file rules)."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    conn.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
        sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(profile.password(role))))


def _database(conn: psycopg.Connection, name: str, owner: str, connect: tuple[str, ...] = ()) -> None:
    """Database ``name`` owned by ``owner``; only the owner and ``connect`` may connect."""
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = sql.Identifier(name)
    conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, sql.Identifier(owner)))
    conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(db))  # temporary tables stay
    for role in connect:
        conn.execute(sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(db, sql.Identifier(role)))


def _schema(conn: psycopg.Connection, schema: str, owner: str) -> None:
    """Schema ``schema`` and everything in it owned by ``owner`` (the only one who can use it); what an
    earlier stack created there as the administrator is handed over."""
    name, role = sql.Identifier(schema), sql.Identifier(owner)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(name, role))
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(name, role))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(name))
    for kinds in (["r", "p", "v", "m", "f"], ["S"]):  # sequences last: a table's own ones follow it
        for (relation,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind::text = ANY(%s) AND c.relowner <> %s::regrole",
                (schema, kinds, owner)).fetchall():
            conn.execute(sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(name, sql.Identifier(relation), role))


# A table the administrator (a test, a tool) makes through FerretDB in a service's database belongs
# to that service's role all the same, or the service could no longer add a collection (FerretDB
# writes each one into its database's metadata table) or an index to it.
_SCHEMA_OWNER_OWNS = """
CREATE OR REPLACE FUNCTION public.dinamis_schema_owner_owns() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    made record;
    owner regrole;
BEGIN
    FOR made IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
        SELECT n.nspowner::regrole INTO owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = n.nspowner
        WHERE c.oid = made.objid AND c.relowner <> n.nspowner AND NOT r.rolsuper
          AND r.rolname <> 'pg_database_owner';
        IF owner IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s OWNER TO %s', made.objid::regclass, owner);
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION public.dinamis_schema_owner_owns() FROM PUBLIC;
"""


def _prepare_catalogue(profile: Profile) -> None:
    """pgstac installed or upgraded by the administrator (its migrations create roles and extensions,
    which the catalogue's own role may not); the catalogue's start then finds it at its version."""
    env = {**os.environ, "POSTGRES_DSN": profile.postgres_admin_dsn("dinamis")}
    subprocess.run([sys.executable, "-m", "catalogue_service.entrypoints.cli", "prepare"], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)


def provision_postgres(profile: Profile) -> None:
    """Roles per purpose, each with its own password and only its own data (idempotent):
    ``catalogue`` owns database ``dinamis`` (pgstac), ``gateway`` its rate-limit schema there,
    ``keycloak`` its database, and each service's FerretDB user ``dinamis_<service>`` its schema of
    database ``ferretdb`` (a FerretDB 1.x database is a PostgreSQL schema)."""
    catalogue, _ = POSTGRES_ROLES["catalogue"]
    gateway, _ = POSTGRES_ROLES["gateway"]
    ferret = [ferretdb_role(s) for s in SERVICES]
    with psycopg.connect(profile.postgres_admin_dsn("postgres"), autocommit=True) as conn:
        for role in (catalogue, gateway, KEYCLOAK_ROLE, *ferret):
            _role(conn, profile, role)
        # CREATE on the database: FerretDB and the gateway say CREATE SCHEMA IF NOT EXISTS, which
        # PostgreSQL checks before it sees the schema exists; each schema is made here, owned by its role
        _database(conn, "dinamis", catalogue, connect=(gateway,))
        _database(conn, "keycloak", KEYCLOAK_ROLE)
        _database(conn, "ferretdb", POSTGRES_ADMIN, connect=tuple(ferret))
    with psycopg.connect(profile.postgres_admin_dsn("dinamis"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        _schema(conn, "gateway", gateway)
    _prepare_catalogue(profile)
    with psycopg.connect(profile.postgres_admin_dsn("dinamis"), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT pgstac_admin, pgstac_ingest, pgstac_read TO {}").format(sql.Identifier(catalogue)))
    with psycopg.connect(profile.postgres_admin_dsn("keycloak"), autocommit=True) as conn:
        _schema(conn, "public", KEYCLOAK_ROLE)  # Keycloak's tables, made by an earlier stack as the administrator
    with psycopg.connect(profile.postgres_admin_dsn("ferretdb"), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(_SCHEMA_OWNER_OWNS)
        if not conn.execute("SELECT 1 FROM pg_event_trigger WHERE evtname = 'dinamis_schema_owner_owns'").fetchone():
            conn.execute("CREATE EVENT TRIGGER dinamis_schema_owner_owns ON ddl_command_end "
                         "WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.dinamis_schema_owner_owns()")
        for service in SERVICES:
            _schema(conn, f"dinamis_{service}", ferretdb_role(service))


# --- Kafka -------------------------------------------------------------------------------

LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""


if TYPE_CHECKING:  # faststream is imported by the Kafka functions that use it, not by every CLI command
    from dinamis_common.messaging.broker import KafkaAuth

KAFKA_ADMIN = "admin"  # the super user of the stack's tools and tests; each service has a user of its own
KAFKA_CONTROLLER = "controller"  # the KRaft controller listener's super user (PLAIN, loopback only)
KAFKA_MECHANISM = "SCRAM-SHA-512"


def _kafka_secret(profile: Profile, user: str) -> str:
    from dinamis_cli.stack.secrets import secret

    return secret(profile, "kafka", user)


def kafka_users(profile: Profile) -> dict[str, str]:
    """Every SCRAM user of the stack's Kafka, with its password: the administrator and one per service
    the topic table names (``kafka_acl.services_of``)."""
    from dinamis_cli.stack.kafka_acl import services_of

    return {user: _kafka_secret(profile, user) for user in (KAFKA_ADMIN, *services_of())}


def _own_kafka(profile: Profile) -> bool:
    """Whether the Kafka reached is the profile's own broker: not external, or named by its own address
    (the flow tests point ``KAFKA_BOOTSTRAP_SERVERS`` at the test profile's running broker)."""
    external = profile.external("kafka")
    return external is None or external == f"127.0.0.1:{profile.ports['kafka']}"


def kafka_secured(profile: Profile) -> bool:
    """Whether the profile's Kafka asks for a user: one this code started (SASL_PLAINTEXT). A broker
    still running from before authentication (PLAINTEXT) is reached without one until restarted; an
    external Kafka (``KAFKA_BOOTSTRAP_SERVERS``) is reached as ``KAFKA_SECURITY_PROTOCOL`` says."""
    if not _own_kafka(profile):
        return os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").startswith("SASL_")
    config = profile.path("kafka", "server.properties")
    return config.exists() and "SASL_PLAINTEXT://" in config.read_text()


def kafka_auth(profile: Profile, user: str = KAFKA_ADMIN) -> KafkaAuth:
    """How ``user`` (the administrator by default: tools and tests) logs in to the profile's Kafka."""
    from dinamis_common.messaging.broker import NO_AUTH, KafkaAuth

    if not kafka_secured(profile):
        return NO_AUTH
    if not _own_kafka(profile):
        return KafkaAuth(os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
                         os.environ.get("KAFKA_SASL_MECHANISM", KAFKA_MECHANISM),
                         os.environ.get("KAFKA_USERNAME", ""), os.environ.get("KAFKA_PASSWORD", ""))
    return KafkaAuth("SASL_PLAINTEXT", KAFKA_MECHANISM, user, _kafka_secret(profile, user))


def kafka_service_env(profile: Profile, service: str) -> dict[str, str]:
    """What ``service`` is told to log in to Kafka: its own user, whose ACLs allow its topics and groups
    only; nothing for a service without topics (the gateway) or a broker without users."""
    from dinamis_cli.stack.kafka_acl import services_of

    if not _own_kafka(profile) or not kafka_secured(profile) or service not in services_of():
        return {}
    return {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": KAFKA_MECHANISM,
            "KAFKA_USERNAME": service, "KAFKA_PASSWORD": _kafka_secret(profile, service)}


def _jaas(module: str, user: str, password: str, **users: str) -> str:
    accepted = "".join(f' user_{name}="{secret}"' for name, secret in users.items())
    return f'org.apache.kafka.common.security.{module} required username="{user}" password="{password}"{accepted};'


def _kafka_config(profile: Profile) -> Path:
    """One KRaft node. Clients: SASL_PLAINTEXT with SCRAM-SHA-512 users (created by ``_kafka_access``);
    the controller listener: SASL_PLAINTEXT with PLAIN and its one ``controller`` user, loopback only.
    StandardAuthorizer, nothing allowed without an ACL; ``admin`` and ``controller`` are super users.
    The file holds passwords: mode 0600."""
    home = profile.path("kafka")
    home.mkdir(parents=True, exist_ok=True)
    port, ctrl = profile.ports["kafka"], profile.ports["kafka_controller"]
    admin, controller = _kafka_secret(profile, KAFKA_ADMIN), _kafka_secret(profile, KAFKA_CONTROLLER)
    config = home / "server.properties"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ctrl}
listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctrl}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms={KAFKA_MECHANISM}
sasl.mechanism.inter.broker.protocol={KAFKA_MECHANISM}
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={_jaas("scram.ScramLoginModule", KAFKA_ADMIN, admin)}
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config={_jaas("plain.PlainLoginModule", KAFKA_CONTROLLER, controller,
                                                       **{KAFKA_CONTROLLER: controller})}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{KAFKA_ADMIN};User:{KAFKA_CONTROLLER}
log.dirs={home / "data"}
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
""")
    (home / "log4j2.properties").write_text(LOG4J2)
    return home


def kafka_ready(profile: Profile) -> bool:
    import logging

    from aiokafka.admin import AIOKafkaAdminClient

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "connection refused" while it starts
    options = kafka_auth(profile).client_options()

    async def probe() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=profile.kafka_bootstrap, request_timeout_ms=5000, **options)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    try:
        process.run_sync(probe)
        return True
    except Exception as exc:  # not ready yet; kept to say why if it never is
        _KAFKA_PROBES[profile.kafka_bootstrap] = f"{type(exc).__name__}: {exc}"
        return False


_KAFKA_PROBES: dict[str, str] = {}  # bootstrap address -> why the last readiness probe failed


def _kafka_access(profile: Profile) -> bool:
    """Sets every user's password and every service's ACLs (``kafka_acl.acls_of``) through the controller
    listener; False while it does not answer yet."""
    from dinamis_cli.stack import kafka_users as access
    from dinamis_cli.stack.kafka_acl import acls_of, services_of

    login = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
             "sasl_plain_username": KAFKA_CONTROLLER, "sasl_plain_password": _kafka_secret(profile, KAFKA_CONTROLLER)}
    acls = {service: acls_of(service) for service in services_of()}
    try:
        process.run_sync(lambda: access.apply("127.0.0.1", profile.ports["kafka_controller"], login,
                                              kafka_users(profile), acls))
        return True
    except (OSError, ConnectionError, TimeoutError) as exc:
        import logging

        logging.getLogger(__name__).debug("Kafka's controller not ready: %r", exc)
        return False
    except Exception as exc:
        if type(exc).__module__.startswith("aiokafka"):  # refused connection, not ready yet, ...
            return False
        if "active controller appears to be" in str(exc):  # NOT_CONTROLLER: the quorum is still electing
            return False
        raise


def start_kafka(profile: Profile) -> None:
    home = _kafka_config(profile)
    classpath = str(cache_dir() / "kafka" / KAFKA_VERSION / "libs" / "*")
    java = ["java", "-Xms256m", "-Xmx768m", f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp", classpath]
    if not (home / "data" / "meta.properties").exists():
        cluster = subprocess.run([*java, "kafka.tools.StorageTool", "random-uuid"], check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
        # no --add-scram: a password on a command line is visible to every local user (ps); every user,
        # the administrator included, and every ACL are set by _kafka_access at each start instead,
        # through the controller listener, on a data directory formatted now or before authentication
        subprocess.run([*java, "kafka.tools.StorageTool", "format", "--standalone", "-t", cluster,
                        "-c", str(home / "server.properties")], check=True, stdout=subprocess.DEVNULL)
    pid = process.spawn(profile, "kafka", [*java, "kafka.Kafka", str(home / "server.properties")])
    log = process.log_file(profile, "kafka")
    process.wait_until(lambda: _kafka_access(profile), 90, "Kafka's users and ACLs", pid, log)
    try:
        process.wait_until(lambda: kafka_ready(profile), 90, "Kafka", pid, log)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; the last probe of {profile.kafka_bootstrap} said: "
                           f"{_KAFKA_PROBES.get(profile.kafka_bootstrap, 'nothing')}") from None


# --- FerretDB ----------------------------------------------------------------------------

def ferretdb_ready(profile: Profile) -> bool:
    try:
        with MongoClient(profile.mongodb_uri, serverSelectionTimeoutMS=1500) as client:
            client.admin.command("ping")
        return True
    except Exception:
        return False


def start_ferretdb(profile: Profile) -> None:
    """FerretDB 1.24 on PostgreSQL, told no credentials: each client authenticates (PLAIN, its user and
    password) and FerretDB connects to PostgreSQL as that role, so PostgreSQL decides what it may read
    (``provision_postgres``: each service's user owns only its own schema, i.e. its own database). A
    client without credentials gets nothing: PostgreSQL refuses a role without a password.

    FerretDB reads the list of databases and collections once, with the first client's connection;
    the readiness probe, as the administrator, is that first client, so every database is listed."""
    state = profile.path("ferretdb")
    state.mkdir(parents=True, exist_ok=True)
    pg = profile.external("postgres")
    pg_url = (pg.rsplit("/", 1)[0] + "/ferretdb") if pg else f"postgres://127.0.0.1:{profile.ports['postgres']}/ferretdb"
    # no password from the environment or a password file for a client that gives none
    nothing = {"PGUSER": "", "PGPASSWORD": "", "PGPASSFILE": "/dev/null", "PGSERVICEFILE": "/dev/null"}
    pid = process.spawn(profile, "ferretdb", [
        str(cache_dir() / "ferretdb" / FERRETDB_VERSION / "ferretdb"), "--handler=postgresql",
        f"--postgresql-url={pg_url}", f"--listen-addr=127.0.0.1:{profile.ports['ferretdb']}",
        "--telemetry=disable", f"--state-dir={state}", "--log-level=warn",
        # its own counters (Prometheus, /debug/metrics) and Go pprof (/debug/pprof), read by bench/pipeline
        f"--debug-addr=127.0.0.1:{profile.ports['ferretdb_debug']}"], env=nothing)
    process.wait_until(lambda: ferretdb_ready(profile), 60, "FerretDB", pid, process.log_file(profile, "ferretdb"))


# --- Keycloak ----------------------------------------------------------------------------

def start_keycloak(profile: Profile) -> None:
    """Keycloak stores its data in a ``keycloak`` database of the stack's PostgreSQL."""
    if profile.external("postgres"):  # someone else's server: as the DSN given, database keycloak
        pg = psycopg.conninfo.conninfo_to_dict(profile.postgres_dsn)
        with psycopg.connect(profile.postgres_dsn, autocommit=True) as conn:
            if not conn.execute("select 1 from pg_database where datname = 'keycloak'").fetchone():
                conn.execute('CREATE DATABASE "keycloak"')
        user, password = str(pg.get("user", POSTGRES_ADMIN)), str(pg.get("password", ""))
    else:  # the stack's: its own role, owner of database keycloak (provision_postgres)
        pg, user, password = {}, KEYCLOAK_ROLE, profile.password(KEYCLOAK_ROLE)
    # the password as a URL parameter: PgJDBC lets it override the empty KC_DB_PASSWORD
    jdbc = (f"jdbc:postgresql://{pg.get('host', '127.0.0.1')}:{pg.get('port', profile.ports['postgres'])}/keycloak"
            f"?password={quote(password, safe='')}")
    keycloak.start(profile, jdbc, user)


# --- SeaweedFS (the S3 object store) ----------------------------------------------------------

SEAWEEDFS_VERSION = os.environ.get("SEAWEEDFS_VERSION", "v0.0.0-20261109003541-7506e5f91cd6")
OBJECTSTORE_BUCKETS = ("deliveries", "thumbnails")
# who may do what (SeaweedFS actions, ``Action:bucket`` for one bucket): the stack's administrator, and each
# service that uses the store with keys of its own (given as OBJECT_STORE_ACCESS_KEY / _SECRET_KEY)
OBJECTSTORE_GRANTS = {
    "admin": ["Admin", "Read", "Write", "List", "Tagging"],
    "provisioning": ["Read:deliveries", "Write:deliveries", "List:deliveries"],
    "catalogue": ["Read:deliveries", "List:deliveries", "Read:thumbnails", "Write:thumbnails", "List:thumbnails"],
}
# master, volume and filer listen beside the S3 port; each also on its port + 10000 (gRPC)
_WEED_PARTS = ("master", "volume", "filer")
# one volume in use per bucket at a time, no 15 s hold of the first allocation on a fresh store
_WEED_MASTER_TOML = """[master.volume_growth]
copy_1 = 1
copy_other = 1
allocation_deferral = "0s"
"""


def objectstore_url(profile: Profile) -> str:
    return (profile.external("objectstore") or f"http://127.0.0.1:{profile.ports['objectstore']}").rstrip("/")


def objectstore_keys(profile: Profile, identity: str) -> tuple[str, str]:
    """The access and secret key of ``identity`` (one of ``OBJECTSTORE_GRANTS``), generated per profile."""
    from dinamis_cli.stack.secrets import secret

    return (secret(profile, "objectstore", f"{identity}.access-key"),
            secret(profile, "objectstore", f"{identity}.secret-key"))


def objectstore_ready(profile: Profile) -> bool:
    import httpx

    try:
        return httpx.get(f"{objectstore_url(profile)}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_objectstore(profile: Profile) -> None:
    """One ``weed server`` (master, volume, filer, S3 gateway) with the profile's identities; the buckets
    are created once it answers. Small: 128 MB volumes, files split in 4 MB chunks, GOMEMLIMIT 256 MiB."""
    import json

    from dinamis_common.objectstore import ObjectStore

    home = profile.path("objectstore")
    (home / "data").mkdir(parents=True, exist_ok=True)
    identities = []
    for name, actions in OBJECTSTORE_GRANTS.items():
        access, secret_key = objectstore_keys(profile, name)
        identities.append({"name": name, "credentials": [{"accessKey": access, "secretKey": secret_key}],
                           "actions": actions})
    config = home / "s3.json"
    config.touch(mode=0o600)
    config.write_text(json.dumps({"identities": identities}, indent=2))
    (home / "master.toml").write_text(_WEED_MASTER_TOML)
    ports = {part: profile.ports[f"objectstore_{part}"] for part in _WEED_PARTS}
    pid = process.spawn(profile, "objectstore", [
        str(cache_dir() / "seaweedfs" / SEAWEEDFS_VERSION / "weed"), "-logtostderr=true", f"-config_dir={home}",
        "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={home / 'data'}", "-master.telemetry=false",
        f"-master.port={ports['master']}", "-master.volumeSizeLimitMB=128", "-volume.max=0",
        f"-volume.port={ports['volume']}", "-volume.preStopSeconds=0", f"-filer.port={ports['filer']}",
        "-s3", f"-s3.port={profile.ports['objectstore']}", f"-s3.config={config}", "-s3.port.iceberg=0",
        "-s3.port.lance=0"], env={"GOMEMLIMIT": "256MiB"}, cwd=home)
    process.wait_until(lambda: objectstore_ready(profile), 90, "SeaweedFS", pid,
                       process.log_file(profile, "objectstore"))

    async def buckets() -> None:
        store = ObjectStore(objectstore_url(profile), *objectstore_keys(profile, "admin"))
        try:
            for bucket in OBJECTSTORE_BUCKETS:
                await store.ensure_bucket(bucket)
        finally:
            store.close()

    process.run_sync(buckets)


# --- the Airbus simulator (development and tests only; docs/airbus-api.md) ---------------------

# its order lifecycles (seconds): a test waits seconds; the dev profile delivers an archive order within
# 2 minutes and a tasking (two attempts) within 5; a time-out fault holds a call past the connector's time-out
AIRBUS_DELAYS = {"dev": {"RECEIVED": "10", "ATTEMPT": "45", "PRODUCTION": "60", "TIMEOUT_HOLD": "60"},
                 "test": {"RECEIVED": "1", "ATTEMPT": "2", "PRODUCTION": "2", "TIMEOUT_HOLD": "25"}}


def airbus_url(profile: Profile) -> str:
    return (profile.external("airbus-simulator") or f"http://127.0.0.1:{profile.ports['airbus-simulator']}").rstrip("/")


def airbus_environment(profile: Profile) -> Environment:
    """The Airbus API the services call: the simulator with the profile's key and notification secret, or
    (``AIRBUS_URL`` set) that one with ``AIRBUS_API_KEY`` and ``AIRBUS_NOTIFICATION_SECRET`` as given."""
    from dinamis_cli.stack.secrets import secret

    external = profile.external("airbus-simulator") is not None
    return {"AIRBUS_URL": airbus_url(profile),
            "AIRBUS_API_KEY": os.environ.get("AIRBUS_API_KEY", "") if external
            else secret(profile, "airbus", "api-key"),
            "AIRBUS_NOTIFICATION_SECRET": os.environ.get("AIRBUS_NOTIFICATION_SECRET", "") if external
            else secret(profile, "airbus", "notification-secret")}


def airbus_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("airbus_simulator") is not None  # a workspace member of this repository


def airbus_ready(profile: Profile) -> bool:
    import httpx

    try:
        return httpx.get(f"{airbus_url(profile)}/_simulator/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_airbus(profile: Profile) -> None:
    import json
    import sys

    env = airbus_environment(profile)
    delays = AIRBUS_DELAYS.get(profile.name, AIRBUS_DELAYS["dev"])
    pid = process.spawn(profile, "airbus-simulator", [sys.executable, "-m", "airbus_simulator"], env={
        "AIRBUS_SIM_PORT": str(profile.ports["airbus-simulator"]),
        "AIRBUS_SIM_STATE_DIR": str(profile.path("airbus-simulator")),
        "AIRBUS_SIM_API_KEYS": json.dumps([env["AIRBUS_API_KEY"]]),
        "AIRBUS_SIM_NOTIFICATION_SECRET": env["AIRBUS_NOTIFICATION_SECRET"],
        "AIRBUS_SIM_CALLBACK_URL": f"{profile.service_url('provisioning')}/api/provisioning/airbus/notifications",
        **{f"AIRBUS_SIM_{k}_SECONDS": v for k, v in delays.items()}})
    process.wait_until(lambda: airbus_ready(profile), 30, "Airbus simulator", pid,
                       process.log_file(profile, "airbus-simulator"))


# --- the registry ---------------------------------------------------------------------------

Environment = dict[str, str]


@dataclass(frozen=True)
class Server:
    name: str
    # the services' setting that reaches it; set in the environment, the stack uses that server
    # and starts none of its own
    variable: str
    installed: Callable[[], bool]
    start: Callable[[Profile], None]
    ready: Callable[[Profile], bool]
    address: Callable[[Profile], str]  # what ``dinamis status`` shows
    environment: Callable[[Profile], Environment]  # what every service is given to reach it
    script: str | None = None  # scripts/install/<script>.sh
    stop_signal: signal.Signals = signal.SIGTERM

    def external(self) -> str | None:
        return os.environ.get(self.variable) or None

    def install(self, profile: Profile) -> None:
        if self.script:
            subprocess.run(["bash", str(profile.root / "scripts" / "install" / f"{self.script}.sh")], check=True)

    def stop(self, profile: Profile) -> bool:
        return process.stop(profile, self.name, self.stop_signal, timeout=30)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def _cached(*parts: str) -> Callable[[], bool]:
    return lambda: cache_dir().joinpath(*parts).exists()


REGISTRY: tuple[Server, ...] = (  # in start order; stopped in reverse
    Server("postgres", "POSTGRES_DSN", script="postgres", start=start_postgres, ready=postgres_ready,
           installed=lambda: (PG_BIN / "postgres").exists() and
           Path("/usr/share/postgresql/15/extension/postgis.control").exists(),
           # each service's own role (Profile.service_env); never the administrator's password in status
           address=lambda p: _without_password(p.postgres_dsn), environment=lambda p: {},
           stop_signal=signal.SIGINT),  # PostgreSQL's "fast" shutdown; SIGTERM waits for clients
    Server("kafka", "KAFKA_BOOTSTRAP_SERVERS", script="kafka", start=start_kafka, ready=kafka_ready,
           installed=_cached("kafka", KAFKA_VERSION, ".complete"),
           address=lambda p: p.kafka_bootstrap, environment=lambda p: {"KAFKA_BOOTSTRAP_SERVERS": p.kafka_bootstrap}),
    Server("ferretdb", "MONGODB_URI", script="ferretdb", start=start_ferretdb, ready=ferretdb_ready,
           installed=_cached("ferretdb", FERRETDB_VERSION, "ferretdb"),
           address=lambda p: _without_password(p.mongodb_uri), environment=lambda p: {}),  # per service too
    Server("mail", "SMTP_HOST", start=mail.start, ready=mail.ready,
           installed=lambda: True,  # aiosmtpd, a dependency of this package
           address=lambda p: "smtp://{}:{}".format(*p.smtp_address),
           environment=lambda p: {"SMTP_HOST": p.smtp_address[0], "SMTP_PORT": str(p.smtp_address[1])}),
    Server("keycloak", "KEYCLOAK_URL", script="keycloak", start=start_keycloak, ready=keycloak.ready,
           installed=keycloak.installed, address=lambda p: p.issuer,
           environment=lambda p: {"AUTH_JWKS_URL": f"{p.issuer}/protocol/openid-connect/certs",
                                  "AUTH_ISSUER": p.issuer, "AUTH_AUDIENCE": "dinamis-api"}),
    Server("objectstore", "OBJECT_STORE_URL", script="seaweedfs", start=start_objectstore, ready=objectstore_ready,
           installed=_cached("seaweedfs", SEAWEEDFS_VERSION, "weed"), address=objectstore_url,
           environment=lambda p: {"OBJECT_STORE_URL": objectstore_url(p)}),
    Server("airbus-simulator", "AIRBUS_URL", start=start_airbus, ready=airbus_ready, address=airbus_url,
           installed=airbus_installed, environment=airbus_environment),
)
SERVERS = tuple(s.name for s in REGISTRY)


def server(name: str) -> Server:
    for s in REGISTRY:
        if s.name == name:
            return s
    raise ValueError(f"unknown server {name!r}: one of {', '.join(SERVERS)}")


def stop_server(profile: Profile, name: str) -> bool:
    return server(name).stop(profile)
