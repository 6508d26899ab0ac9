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

    # The order flow (issue 12): confirmation, price check, the worker and its polling backoff.
    provisioning_auto_confirm: bool = Field(default=False,
                                            description="confirm accepted requests' orders without an operator")
    provisioning_price_tolerance: float = Field(default=0.05, ge=0,
                                                description="share by which Airbus may exceed the frozen quote")
    provisioning_worker_seconds: float = Field(default=2.0, gt=0,
                                               description="how often the worker looks for due orders")
    provisioning_worker_batch: int = Field(default=20, ge=1, description="orders the worker drives per round")
    provisioning_poll_initial_seconds: float = Field(
        default=5.0, gt=0, description="first poll of a placed order (doubled while unchanged)")
    provisioning_poll_max_seconds: float = Field(default=300.0, gt=0, description="longest wait between two polls")
    provisioning_retry_seconds: float = Field(default=10.0, gt=0,
                                              description="first wait after a transient failure (doubled likewise)")
