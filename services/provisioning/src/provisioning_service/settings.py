from dinamis_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "provisioning"
    http_port: int = 8005
