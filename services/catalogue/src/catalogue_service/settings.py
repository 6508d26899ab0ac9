from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "catalogue"
    http_port: int = 8002
