from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "arbitration"
    http_port: int = 8004
    arbitration_auto_accept: bool = True
    arbitration_auto_accept_max_km2: float = 10_000.0
