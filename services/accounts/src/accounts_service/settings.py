from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "accounts"
    http_port: int = 8001
