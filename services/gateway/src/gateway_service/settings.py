from dinamis_common.settings import ServiceSettings
from pydantic import Field, model_validator

from gateway_service.domain.limits import Limit, Limits
from gateway_service.domain.routing import SERVICES


class Settings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = 8000
    accounts_url: str = "http://127.0.0.1:8001"
    catalogue_url: str = "http://127.0.0.1:8002"
    requests_url: str = "http://127.0.0.1:8003"
    arbitration_url: str = "http://127.0.0.1:8004"
    provisioning_url: str = "http://127.0.0.1:8005"
    upstream_timeout_seconds: float = 30.0
    # Shorter than the services' HTTP_KEEP_ALIVE_SECONDS (and than uvicorn's default 5 s), so
    # that the gateway drops an idle connection before the service closes it under its feet.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)
    upstream_max_connections: int = Field(default=256, ge=1)
    upstream_attempts: int = Field(default=3, ge=1, description="sends of one call, the first included")
    upstream_retry_backoff_seconds: float = Field(default=0.05, ge=0)
    # Rate limits (429 + Retry-After), counted in PostgreSQL shared by every replica (POSTGRES_DSN,
    # schema RATE_LIMIT_SCHEMA). Each limit is N calls in any window of its length (seconds).
    rate_limits_enabled: bool = True
    rate_limit_schema: str = Field(default="gateway", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    rate_limit_store_timeout_seconds: float = Field(default=0.5, gt=0, description="counters' time-out per call")
    rate_limit_sweep_seconds: float = Field(default=60.0, gt=0, description="expired windows are deleted this often")
    rate_limit_ip: int = Field(default=600, ge=1, description="calls from one client address (IPv6: one /64)")
    rate_limit_ip_seconds: int = Field(default=60, ge=1)
    rate_limit_user: int = Field(default=600, ge=1, description="calls with one user's token")
    rate_limit_user_seconds: int = Field(default=60, ge=1)
    rate_limit_mail_ip: int = Field(default=20, ge=1, description="public accounts calls that may send e-mail, "
                                    "from one client address")
    rate_limit_mail_ip_seconds: int = Field(default=3600, ge=1)
    rate_limit_mail_address: int = Field(default=5, ge=1, description="such calls naming one e-mail address")
    rate_limit_mail_address_seconds: int = Field(default=3600, ge=1)
    rate_limit_mail_body_bytes: int = Field(default=16_384, ge=256, description="largest body of such a call")
    rate_limit_certificate_ip: int = Field(default=30, ge=1, description="certificate checks from one address")
    rate_limit_certificate_ip_seconds: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _pool_fits(self) -> "Settings":
        if self.upstream_keepalive_seconds >= self.http_keep_alive_seconds:
            raise ValueError("UPSTREAM_KEEPALIVE_SECONDS must be shorter than the services' HTTP_KEEP_ALIVE_SECONDS")
        if self.upstream_max_connections < self.max_in_flight:
            raise ValueError("UPSTREAM_MAX_CONNECTIONS must be at least MAX_IN_FLIGHT")
        return self

    def limits(self) -> Limits:
        """Ordinary calls are let through uncounted when the counters are away; the sensitive
        classes are refused then (see ``service_layer.rate_limiting``)."""
        return Limits(
            ip=Limit("ip", self.rate_limit_ip, self.rate_limit_ip_seconds),
            user=Limit("user", self.rate_limit_user, self.rate_limit_user_seconds),
            mail_ip=Limit("mail-ip", self.rate_limit_mail_ip, self.rate_limit_mail_ip_seconds, fail_closed=True),
            mail_address=Limit("mail-address", self.rate_limit_mail_address, self.rate_limit_mail_address_seconds,
                               fail_closed=True),
            certificate_ip=Limit("certificate-ip", self.rate_limit_certificate_ip,
                                 self.rate_limit_certificate_ip_seconds, fail_closed=True))

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICES}
