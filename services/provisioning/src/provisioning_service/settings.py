from dinamis_common.settings import ServiceSettings
from pydantic import Field, SecretStr


class Settings(ServiceSettings):
    service_name: str = "provisioning"
    http_port: int = 8005

    # The Airbus ordering API (docs/airbus-api.md): the simulator of the stack in development and tests.
    airbus_url: str = Field(default="http://127.0.0.1:8090", description="base URL of the Airbus API")
    airbus_api_key: SecretStr = Field(default=SecretStr(""), description="Airbus API key (exchanged for tokens)")
    airbus_notification_secret: SecretStr = Field(
        default=SecretStr(""), description="shared secret of Airbus notifications' X-Airbus-Signature")
    airbus_connect_timeout_seconds: float = Field(default=5.0, gt=0, description="Airbus: connection time-out")
    airbus_timeout_seconds: float = Field(default=20.0, gt=0, description="Airbus: time-out of one call")
    airbus_delivery_timeout_seconds: float = Field(default=120.0, gt=0,
                                                   description="Airbus: time-out of a package download")
    airbus_token_margin_seconds: float = Field(default=60.0, ge=0,
                                               description="Airbus: a token is renewed this long before it expires")
    # Retries of 5xx, time-outs and 429 (exponential backoff with jitter; Retry-After wins when given).
    airbus_retry_attempts: int = Field(default=6, ge=1, description="Airbus: attempts of one call")
    airbus_retry_initial_seconds: float = Field(default=0.5, ge=0, description="Airbus: first backoff")
    airbus_retry_max_seconds: float = Field(default=30.0, ge=0, description="Airbus: longest backoff")
    airbus_retry_jitter_seconds: float = Field(default=0.5, ge=0, description="Airbus: random jitter per backoff")
    airbus_retry_total_seconds: float = Field(default=120.0, gt=0,
                                              description="Airbus: a call's retries give up after this long")
    # The circuit breaker: open after this many failed calls in a row, fail fast while open, let one call
    # through (half-open) after the cool-down.
    airbus_breaker_failures: int = Field(default=5, ge=1, description="Airbus: failures in a row that open the circuit")
    airbus_breaker_reset_seconds: float = Field(default=30.0, gt=0,
                                                description="Airbus: how long the circuit stays open")
    # Airbus takes 1 ordering call (POST /orders, /feasibility, /prices) per second per contract, never two
    # at once: a lease shared by every replica in this service's database.
    airbus_ordering_interval_seconds: float = Field(default=1.0, gt=0,
                                                    description="Airbus: least time between two ordering calls")
    airbus_ordering_lease_seconds: float = Field(
        default=60.0, gt=0, description="Airbus: an ordering lease whose holder died is taken over after this long")
    airbus_reads_per_second: float = Field(default=100.0, gt=0, description="Airbus: search/read calls per second")
