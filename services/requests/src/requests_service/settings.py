from datetime import date

from dinamis_common.dated import Dated
from dinamis_common.settings import ServiceSettings
from pydantic import Field

from requests_service.domain.rules import IntakeRules, Tariff

_FROM = date(2016, 1, 1)


class Settings(ServiceSettings):
    service_name: str = "requests"
    http_port: int = 8003
    # the other services this one asks over HTTP (never their databases)
    catalogue_url: str = Field(default="http://127.0.0.1:8002", description="the catalogue's STAC API")
    arbitration_url: str = Field(default="http://127.0.0.1:8004", description="the arbitration service (quota)")
    upstream_timeout_seconds: float = Field(default=5.0, gt=0, le=60,
                                            description="how long a call to the catalogue or arbitration may take")
    requests_expiry_seconds: float = Field(default=300.0, gt=0, description="how often taskings whose window "
                                           "ended before they were ordered are marked expired")
    requests_sweep_seconds: float = Field(default=3600.0, gt=0, description="how often the pending-tasking index "
                                          "forgets ended windows and removals older than the events' retention")
    # Limits and rules of intake, and the tariffs: each valid from a date (BRIEF.md; Airbus order limits).
    requests_rules: list[Dated[IntakeRules]] = Field(
        default_factory=lambda: [Dated(since=_FROM, value=IntakeRules())],
        description="intake rules (areas, vertices, tasking windows, cancellation), each valid from a date")
    requests_tariffs: list[Dated[Tariff]] = Field(
        default_factory=lambda: [Dated(since=_FROM, value=Tariff())],
        description="prices, invoicing minimums and quote validity, each valid from a date")
