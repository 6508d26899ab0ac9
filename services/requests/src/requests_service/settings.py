from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "requests"
    http_port: int = 8003
