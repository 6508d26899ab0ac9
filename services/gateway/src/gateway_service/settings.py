from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = 8000
    accounts_url: str = "http://127.0.0.1:8001"
    catalogue_url: str = "http://127.0.0.1:8002"
    requests_url: str = "http://127.0.0.1:8003"
    arbitration_url: str = "http://127.0.0.1:8004"
    provisioning_url: str = "http://127.0.0.1:8005"
    upstream_timeout_seconds: float = 30.0

    def upstreams(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/")
                for name in ("accounts", "catalogue", "requests", "arbitration", "provisioning")}
