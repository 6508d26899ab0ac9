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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pymongo import MongoClient

from dinamis_cli.stack import keycloak, mail, process
from dinamis_cli.stack.profile import Profile, cache_dir

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
        with psycopg.connect(_admin_dsn(profile), connect_timeout=2) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _admin_dsn(profile: Profile) -> str:
    return f"postgresql://dinamis@127.0.0.1:{profile.ports['postgres']}/postgres"


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


def start_postgres(profile: Profile) -> None:
    data, sockets = pg_dirs(profile)
    for d in (data, sockets):
        d.mkdir(exist_ok=True)
        _chown_postgres(d)
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "dinamis", "--auth=trust",
                                     "-E", "UTF8", "--no-instructions"]), check=True, stdout=subprocess.DEVNULL,
                       cwd=data)
    pid = process.spawn(profile, "postgres", _as_postgres([
        str(PG_BIN / "postgres"), "-D", str(data), "-p", str(profile.ports["postgres"]), "-k", str(sockets),
        "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off" if _ephemeral(profile)
        else "fsync=on"]), cwd=data)
    process.wait_until(lambda: postgres_ready(profile), 60, "PostgreSQL", pid, process.log_file(profile, "postgres"))
    with psycopg.connect(_admin_dsn(profile), autocommit=True) as conn:
        for db in ("ferretdb", "dinamis", "keycloak"):
            if not conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone():
                conn.execute(f'CREATE DATABASE "{db}"')
    with psycopg.connect(profile.postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _ephemeral(profile: Profile) -> bool:
    return profile.name == "test"  # test data is thrown away: no need to fsync it


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


def _kafka_config(profile: Profile) -> Path:
    home = profile.path("kafka")
    home.mkdir(parents=True, exist_ok=True)
    port, ctrl = profile.ports["kafka"], profile.ports["kafka_controller"]
    (home / "server.properties").write_text(f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ctrl}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctrl}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
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

    async def probe() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=profile.kafka_bootstrap, request_timeout_ms=2000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    try:
        process.run_sync(probe)
        return True
    except Exception:
        return False


def start_kafka(profile: Profile) -> None:
    home = _kafka_config(profile)
    classpath = str(cache_dir() / "kafka" / KAFKA_VERSION / "libs" / "*")
    java = ["java", "-Xms256m", "-Xmx768m", f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp", classpath]
    if not (home / "data" / "meta.properties").exists():
        cluster = subprocess.run([*java, "kafka.tools.StorageTool", "random-uuid"], check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
        subprocess.run([*java, "kafka.tools.StorageTool", "format", "--standalone", "-t", cluster,
                        "-c", str(home / "server.properties")], check=True, stdout=subprocess.DEVNULL)
    pid = process.spawn(profile, "kafka", [*java, "kafka.Kafka", str(home / "server.properties")])
    process.wait_until(lambda: kafka_ready(profile), 90, "Kafka", pid, process.log_file(profile, "kafka"))


# --- FerretDB ----------------------------------------------------------------------------

def ferretdb_ready(profile: Profile) -> bool:
    try:
        with MongoClient(profile.mongodb_uri, serverSelectionTimeoutMS=1500) as client:
            client.admin.command("ping")
        return True
    except Exception:
        return False


def start_ferretdb(profile: Profile) -> None:
    state = profile.path("ferretdb")
    state.mkdir(parents=True, exist_ok=True)
    pg = profile.external("postgres")
    pg_url = (pg.rsplit("/", 1)[0] + "/ferretdb") if pg else \
        f"postgres://dinamis@127.0.0.1:{profile.ports['postgres']}/ferretdb"
    pid = process.spawn(profile, "ferretdb", [
        str(cache_dir() / "ferretdb" / FERRETDB_VERSION / "ferretdb"), "--handler=postgresql",
        f"--postgresql-url={pg_url}", f"--listen-addr=127.0.0.1:{profile.ports['ferretdb']}",
        "--telemetry=disable", f"--state-dir={state}", "--log-level=warn",
        # its own counters (Prometheus, /debug/metrics) and Go pprof (/debug/pprof), read by bench/pipeline
        f"--debug-addr=127.0.0.1:{profile.ports['ferretdb_debug']}"])
    process.wait_until(lambda: ferretdb_ready(profile), 60, "FerretDB", pid, process.log_file(profile, "ferretdb"))


# --- Keycloak ----------------------------------------------------------------------------

def start_keycloak(profile: Profile) -> None:
    """Keycloak stores its data in a ``keycloak`` database of the stack's PostgreSQL."""
    pg = psycopg.conninfo.conninfo_to_dict(profile.postgres_dsn)
    with psycopg.connect(profile.postgres_dsn, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = 'keycloak'").fetchone():
            conn.execute('CREATE DATABASE "keycloak"')
    jdbc = f"jdbc:postgresql://{pg.get('host', '127.0.0.1')}:{pg.get('port', 5432)}/keycloak"
    keycloak.start(profile, jdbc, str(pg.get("user", "dinamis")))


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


def _cached(*parts: str) -> Callable[[], bool]:
    return lambda: cache_dir().joinpath(*parts).exists()


REGISTRY: tuple[Server, ...] = (  # in start order; stopped in reverse
    Server("postgres", "POSTGRES_DSN", script="postgres", start=start_postgres, ready=postgres_ready,
           installed=lambda: (PG_BIN / "postgres").exists() and
           Path("/usr/share/postgresql/15/extension/postgis.control").exists(),
           address=lambda p: p.postgres_dsn, environment=lambda p: {"POSTGRES_DSN": p.postgres_dsn},
           stop_signal=signal.SIGINT),  # PostgreSQL's "fast" shutdown; SIGTERM waits for clients
    Server("kafka", "KAFKA_BOOTSTRAP_SERVERS", script="kafka", start=start_kafka, ready=kafka_ready,
           installed=_cached("kafka", KAFKA_VERSION, ".complete"),
           address=lambda p: p.kafka_bootstrap, environment=lambda p: {"KAFKA_BOOTSTRAP_SERVERS": p.kafka_bootstrap}),
    Server("ferretdb", "MONGODB_URI", script="ferretdb", start=start_ferretdb, ready=ferretdb_ready,
           installed=_cached("ferretdb", FERRETDB_VERSION, "ferretdb"),
           address=lambda p: p.mongodb_uri, environment=lambda p: {"MONGODB_URI": p.mongodb_uri}),
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
)
SERVERS = tuple(s.name for s in REGISTRY)


def server(name: str) -> Server:
    for s in REGISTRY:
        if s.name == name:
            return s
    raise ValueError(f"unknown server {name!r}: one of {', '.join(SERVERS)}")


def stop_server(profile: Profile, name: str) -> bool:
    return server(name).stop(profile)
