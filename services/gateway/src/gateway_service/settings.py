from dinamis_common.settings import ServiceSettings
from pydantic import Field, model_validator

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

    @model_validator(mode="after")
    def _pool_fits(self) -> "Settings":
        if self.upstream_keepalive_seconds >= self.http_keep_alive_seconds:
            raise ValueError("UPSTREAM_KEEPALIVE_SECONDS must be shorter than the services' HTTP_KEEP_ALIVE_SECONDS")
        if self.upstream_max_connections < self.max_in_flight:
            raise ValueError("UPSTREAM_MAX_CONNECTIONS must be at least MAX_IN_FLIGHT")
        return self

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICES}
