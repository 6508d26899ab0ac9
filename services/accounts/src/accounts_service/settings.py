from pathlib import Path

from dinamis_common.settings import ServiceSettings
from pydantic import Field, model_validator


class Settings(ServiceSettings):
    service_name: str = "accounts"
    http_port: int = 8001
    portal_url: str = Field(default="http://127.0.0.1:8000", description="where e-mailed links point")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_from: str = "no-reply@dinamis.invalid"

    # Keycloak admin REST API, as the accounts service's own service account
    keycloak_url: str = "http://127.0.0.1:8080"
    keycloak_realm: str = "dinamis"
    keycloak_client_id: str = "svc-accounts"
    keycloak_client_secret: str = ""
    keycloak_portal_client: str = "dinamis-portal"

    # the membership certificates' signing key and certificate (PEM), and the roots trusted when
    # verifying one; the local stack makes a development PKI, production mounts real ones
    certificate_key_file: Path = Path("/run/secrets/dinamis/certificate-key.pem")
    certificate_cert_file: Path = Path("/run/secrets/dinamis/certificate.pem")
    certificate_chain_files: list[Path] = []
    certificate_trust_files: list[Path] = []
    certificate_timestamp_url: str | None = Field(default=None, description="RFC 3161 TSA (PAdES B-T)")

    verification_link_hours: float = Field(default=24, gt=0)
    acceptance_link_days: float = Field(default=14, gt=0)
    # anonymous leftovers: an account request or a subscription never confirmed (address not
    # validated, entity never described) is deleted this long after it was made, by a sweep
    # every ``leftovers_sweep_seconds``
    unconfirmed_expiry_hours: float = Field(default=48, gt=0)
    leftovers_sweep_seconds: float = Field(default=3600, gt=0)

    @model_validator(mode="after")
    def _expiry_outlives_links(self) -> "Settings":
        if self.unconfirmed_expiry_hours < self.verification_link_hours:
            raise ValueError("UNCONFIRMED_EXPIRY_HOURS must be at least VERIFICATION_LINK_HOURS: a request "
                             "is not deleted while its link still works")
        return self
