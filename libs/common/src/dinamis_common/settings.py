"""One settings class per service, read from the environment (documented in README).

Nothing else in the code base reads ``os.environ``: services subclass :class:`ServiceSettings`
and build every client from it in their composition root.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = "dinamis"
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Prepended to every topic and consumer group: lets several stacks share one cluster
    # (tests run isolated stacks side by side); empty in a normal deployment.
    kafka_namespace: str = ""
    # Who this service is to Kafka: PLAINTEXT (no user) by default; the stack and production use
    # SASL_PLAINTEXT (or SASL_SSL) with SCRAM-SHA-512 and one user per service, whose ACLs allow its
    # own topics and groups only (dinamis_cli.stack.kafka_acl).
    kafka_security_protocol: str = Field(default="PLAINTEXT", pattern="^(PLAINTEXT|SASL_PLAINTEXT|SASL_SSL)$",
                                         description="PLAINTEXT, SASL_PLAINTEXT or SASL_SSL")
    kafka_sasl_mechanism: str = Field(default="SCRAM-SHA-512", pattern="^(SCRAM-SHA-512|SCRAM-SHA-256|PLAIN)$",
                                      description="SASL mechanism (with a SASL protocol)")
    kafka_username: str = Field(default="", description="this service's Kafka user")
    kafka_password: SecretStr = Field(default=SecretStr(""), description="this service's Kafka password")
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    # Empty means ``dinamis_<service_name>``: each service owns its own database.
    mongodb_database: str = ""
    postgres_dsn: str = "postgresql://dinamis@127.0.0.1:55432/dinamis"

    # Where the platform is reached from outside (the gateway's public origin: scheme, host, port):
    # every public link a service builds starts with it, never with a caller's Host or X-Forwarded-*.
    public_url: str = Field(default="http://127.0.0.1:8000", description="the platform's public base URL")
    # The proxies whose X-Forwarded-For / X-Forwarded-Proto the HTTP server believes (comma-separated
    # addresses or networks, e.g. the ingress's); empty: nobody's, the peer's address is the client's.
    forwarded_allow_ips: str = Field(default="", description="trusted proxies (X-Forwarded-*), none by default")

    # The S3-compatible object store (dinamis_common.objectstore): SeaweedFS in the local stack, with a
    # key pair per service; production gives each service its own keys the same way.
    object_store_url: str = Field(default="http://127.0.0.1:8333", description="S3 endpoint of the object store")
    object_store_access_key: str = Field(default="", description="this service's S3 access key")
    object_store_secret_key: SecretStr = Field(default=SecretStr(""), description="this service's S3 secret key")
    object_store_region: str = Field(default="us-east-1", description="S3 region (signing scope)")

    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"

    # Access tokens are verified against the JWKS of the Keycloak realm ``dinamis`` (the local
    # stack's by default); a test key in unit tests only.
    auth_jwks_url: str = "http://127.0.0.1:8080/realms/dinamis/protocol/openid-connect/certs"
    auth_issuer: str = "http://127.0.0.1:8080/realms/dinamis"
    auth_audience: str = "dinamis-api"
    auth_leeway_seconds: int = 30

    max_body_bytes: int = Field(default=1_048_576, description="largest request body accepted")
    # A JSON body is read strictly before any handler sees it (dinamis_common.http.strict_input):
    # nesting deeper than this, or one number written with more characters, is refused with 422.
    max_json_depth: int = Field(default=32, ge=2, description="deepest nesting of a JSON request body")
    max_json_number_chars: int = Field(default=40, ge=16,
                                       description="longest number (characters) in a JSON request body")
    # Beyond this many requests in progress a service answers 503 with Retry-After at once
    # (probes excepted) rather than letting calls queue until clients give up: sized for a
    # 2-core machine, where more in flight only adds waiting.
    max_in_flight: int = Field(default=128, ge=1, description="requests in progress before shedding load")
    # How long the HTTP server keeps an idle connection: longer than any caller's pool keeps one
    # (the gateway's UPSTREAM_KEEPALIVE_SECONDS), so that the caller, not the server, closes it.
    http_keep_alive_seconds: int = Field(default=30, ge=1, description="idle keep-alive of the HTTP server")
    outbox_poll_seconds: float = Field(default=5.0, description="relay fallback scan (after a crash)")
    consumer_max_attempts: int = 3
    # Each subscriber commits what it handled at most this often (or every 100 records), not after
    # each record: a crash only makes the records handled since its last commit come again, which
    # idempotent handlers make harmless.
    consumer_commit_interval_ms: int = Field(default=200, ge=0,
                                             description="how often a consumer commits the offsets it handled")
    dlq_metric_seconds: float = Field(default=30.0, gt=0,
                                      description="how often the records waiting in each group's DLQ are counted")
    max_event_bytes: int = Field(default=900_000,
                                 description="largest event a change may emit (Kafka's record limit is 1 MiB)")
    changes_retention_seconds: int = Field(
        default=31 * 24 * 3600, description="how long applied changes (and so the ids of applied events) are kept: "
        "at least the topics' retention, so a replay from offset 0 changes nothing")

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
            raise ValueError("PUBLIC_URL must be an origin such as https://dinamis.example.org")
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"dinamis_{self.service_name}"
