"""Where a stack lives (state directory) and listens (ports), per profile.

Two profiles so the test suite never collides with a running development stack:
``dev`` (default) and ``test``. Every port can be overridden with ``DINAMIS_<NAME>_PORT``;
``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URI`` / ``POSTGRES_DSN`` / ``KEYCLOAK_URL`` / ``SMTP_HOST`` /
``OBJECT_STORE_URL`` make that
server external (not started here).

Credentials (generated per profile by ``secrets.secret``, mode 0600 in the state directory): the
administrator ``dinamis`` (PostgreSQL's superuser, also FerretDB's administrator) for the tests and
tools that create databases, and one role per purpose that the services are given
(``service_env``): the catalogue's pgstac database, the gateway's rate-limit schema, Keycloak's
database, and one FerretDB user per service, allowed only its own database ``dinamis_<service>``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")

_PORTS = {
    "dev": {"kafka": 9092, "kafka_controller": 9093, "postgres": 55432, "ferretdb": 27017, "ferretdb_debug": 8088,
            "mail": 2525,
            "objectstore": 8333, "objectstore_master": 9333, "objectstore_volume": 8380, "objectstore_filer": 8888,
            "keycloak": 8080, "keycloak_management": 8079, "gateway": 8000,
            "accounts": 8001, "catalogue": 8002, "requests": 8003, "arbitration": 8004, "provisioning": 8005,
            "airbus-simulator": 8090},
    "test": {"kafka": 19092, "kafka_controller": 19093, "postgres": 55433, "ferretdb": 27018, "ferretdb_debug": 18088,
             "mail": 12525,
             "objectstore": 28333, "objectstore_master": 29333, "objectstore_volume": 28380, "objectstore_filer": 28888,
             "keycloak": 18080, "keycloak_management": 18079, "gateway": 18000,
             "accounts": 18001, "catalogue": 18002, "requests": 18003, "arbitration": 18004,
             "provisioning": 18005,
             "airbus-simulator": 18090},
}

# The dev and test profiles' gateway counts every call (the code path is the production one) with limits
# the demo, the flow tests and the benchmarks, all calling from 127.0.0.1, never reach; production keeps
# the tight defaults of the gateway's Settings.
DEV_RATE_LIMITS = {"RATE_LIMIT_IP": "1000000", "RATE_LIMIT_USER": "1000000", "RATE_LIMIT_MAIL_IP": "100000",
                   "RATE_LIMIT_MAIL_ADDRESS": "1000", "RATE_LIMIT_CERTIFICATE_IP": "100000"}

# The dev and test profiles accept an archive request within the free quota automatically, in every cell.
DEV_AUTO_RULES = {cell: [{"name": "archive-within-free-quota", "kind": "archive-within-free-quota"}]
                  for cell in ("pleiades-science", "institutional", "spot-science")}


POSTGRES_ADMIN = "dinamis"  # the superuser initdb creates; the tests' and tools' administrator
# PostgreSQL roles the services are given, with the database each one connects to
POSTGRES_ROLES = {"catalogue": ("catalogue", "dinamis"), "gateway": ("gateway", "dinamis")}
KEYCLOAK_ROLE = "keycloak"  # owner of database keycloak


def ferretdb_role(service: str) -> str:
    """The FerretDB user (a PostgreSQL role owning the schema of that name) of a service."""
    return f"dinamis_{service}"


def repo_root() -> Path:
    if home := os.environ.get("DINAMIS_HOME"):
        return Path(home)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.exists() and "[tool.uv.workspace]" in pyproject.read_text():
            return candidate
    return Path(__file__).resolve().parents[5]


def cache_dir() -> Path:
    return Path(os.environ.get("DINAMIS_CACHE", Path.home() / ".cache" / "dinamis"))


@dataclass
class Profile:
    name: str
    root: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / ".dinamis" / self.name

    def path(self, *parts: str) -> Path:
        return self.state_dir.joinpath(*parts)

    def external(self, server: str) -> str | None:
        """The address of someone else's server used instead of starting one (see ``servers.REGISTRY``)."""
        from dinamis_cli.stack.servers import server as registered

        return registered(server).external()

    @property
    def kafka_bootstrap(self) -> str:
        return self.external("kafka") or f"127.0.0.1:{self.ports['kafka']}"

    def password(self, role: str) -> str:
        """The password of a PostgreSQL role of this stack (FerretDB users are PostgreSQL roles)."""
        from dinamis_cli.stack.secrets import secret

        return secret(self, "postgres", role)

    def postgres_url(self, role: str, database: str) -> str:
        """``role``'s DSN to ``database`` of the stack's own PostgreSQL, password included."""
        return (f"postgresql://{role}:{quote(self.password(role), safe='')}@127.0.0.1:{self.ports['postgres']}"
                f"/{database}")

    def postgres_admin_dsn(self, database: str = "dinamis") -> str:
        """The administrator's DSN (tests, tools, the stack itself); an external server's as given."""
        if pg := self.external("postgres"):
            return pg if database == "dinamis" else pg.rsplit("/", 1)[0] + f"/{database}"
        return self.postgres_url(POSTGRES_ADMIN, database)

    def _mongodb_url(self, user: str) -> str:
        # FerretDB 1.x takes the client's PLAIN credentials and connects to PostgreSQL as that role
        return (f"mongodb://{user}:{quote(self.password(user), safe='')}@127.0.0.1:{self.ports['ferretdb']}/"
                "?authMechanism=PLAIN")

    @property
    def mongodb_uri(self) -> str:
        """The administrator's MongoDB URI (tests and tools: every database); services get their own."""
        return self.external("ferretdb") or self._mongodb_url(POSTGRES_ADMIN)

    def service_mongodb_uri(self, service: str) -> str:
        """``service``'s own FerretDB user, allowed only database ``dinamis_<service>``."""
        return self.external("ferretdb") or self._mongodb_url(ferretdb_role(service))

    @property
    def postgres_dsn(self) -> str:
        """The administrator's DSN to database ``dinamis`` (tests and tools); services get their own."""
        return self.postgres_admin_dsn()

    def service_postgres_dsn(self, service: str) -> str | None:
        """``service``'s own role and database, ``None`` for a service that uses no PostgreSQL."""
        if service not in POSTGRES_ROLES:
            return None
        if pg := self.external("postgres"):
            return pg
        return self.postgres_url(*POSTGRES_ROLES[service])

    @property
    def keycloak_url(self) -> str:
        return (self.external("keycloak") or f"http://127.0.0.1:{self.ports['keycloak']}").rstrip("/")

    @property
    def smtp_address(self) -> tuple[str, int]:
        """Where e-mail is sent: the external SMTP server (``SMTP_HOST``/``SMTP_PORT``) or the stack's sink."""
        if host := self.external("mail"):
            return host, int(os.environ.get("SMTP_PORT", "25"))
        return "127.0.0.1", self.ports["mail"]

    @property
    def issuer(self) -> str:
        """The ``dinamis`` realm of Keycloak: issuer of every access token the services accept."""
        return f"{self.keycloak_url}/realms/dinamis"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def service_env(self, name: str) -> dict[str, str]:
        from dinamis_cli.stack.servers import REGISTRY, kafka_service_env

        env = {
            "SERVICE_NAME": name, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.ports[name]),
            "MONGODB_DATABASE": f"dinamis_{name}", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
            "SMTP_FROM": os.environ.get("SMTP_FROM", "no-reply@dinamis.invalid"),
            "PORTAL_URL": self.service_url("gateway"),
            "PUBLIC_URL": self.service_url("gateway"),  # public links (STAC) start with it, never a caller's Host
        }
        for server in REGISTRY:  # how to reach each server
            env.update(server.environment(self))
        env.update({f"{s.upper()}_URL": self.service_url(s) for s in SERVICES if s != "gateway"})
        env.update(kafka_service_env(self, name))  # its own Kafka user: its topics and groups only
        env["MONGODB_URI"] = self.service_mongodb_uri(name)  # its own user, never the administrator
        env.pop("POSTGRES_DSN", None)
        if dsn := self.service_postgres_dsn(name):
            env["POSTGRES_DSN"] = dsn
        if name == "gateway":  # its rate-limit counters live in schema "gateway" of the stack's PostgreSQL
            env.update(DEV_RATE_LIMITS)
        if name == "provisioning":  # accepted requests are ordered without an operator (production: an operator)
            env["PROVISIONING_AUTO_CONFIRM"] = "true" if self.name in ("dev", "test") else "false"
        if name == "arbitration":  # the demo and the benchmarks flow without a person (production: no rule)
            env["ARBITRATION_AUTO_RULES"] = json.dumps(DEV_AUTO_RULES)
        if name in ("provisioning", "catalogue") and not self.external("objectstore"):  # its own S3 keys
            from dinamis_cli.stack.servers import objectstore_keys

            env["OBJECT_STORE_ACCESS_KEY"], env["OBJECT_STORE_SECRET_KEY"] = objectstore_keys(self, name)
        if name == "accounts":  # it administers the realm's users through Keycloak's admin REST API
            from dinamis_cli.stack.keycloak_admin import REALM, SVC_ACCOUNTS, client_secret
            from dinamis_cli.stack.pki import ensure_signing_pki

            # the gateway (on this host's loopback) names the client of a Charter acceptance; nobody else is
            # believed (production: the gateway's addresses only)
            env["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
            env.update({"KEYCLOAK_URL": self.keycloak_url, "KEYCLOAK_REALM": REALM, "KEYCLOAK_CLIENT_ID": SVC_ACCOUNTS,
                        "KEYCLOAK_CLIENT_SECRET": client_secret(self, SVC_ACCOUNTS)})
            # membership certificates are signed with the profile's development PKI (production
            # mounts a real key and certificate at the same settings)
            pki = ensure_signing_pki(self.path("pki"))
            env.update({"CERTIFICATE_KEY_FILE": str(pki.key), "CERTIFICATE_CERT_FILE": str(pki.cert),
                        "CERTIFICATE_TRUST_FILES": json.dumps([str(pki.root)])})
        return env


def load_profile(name: str | None = None) -> Profile:
    name = name or os.environ.get("DINAMIS_PROFILE", "dev")
    if name not in _PORTS:
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(_PORTS)}")
    ports = {k: int(os.environ.get(f"DINAMIS_{k.upper().replace('-', '_')}_PORT", v)) for k, v in _PORTS[name].items()}
    return Profile(name, repo_root(), ports)
