"""The simulator's one settings class: environment variables ``AIRBUS_SIM_*`` (JSON for lists and maps)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Rate(BaseModel):
    """EUR per km² of one mission and kind."""

    archive: Decimal = Field(gt=0)
    tasking: Decimal = Field(gt=0)


class Tariff(BaseModel):
    rates: dict[str, Rate] = {"PLEIADES": Rate(archive=Decimal("10.00"), tasking=Decimal("25.00")),
                              "SPOT": Rate(archive=Decimal("3.50"), tasking=Decimal("8.00"))}
    # invoicing minimums (Airbus: 25 km² archive, 100 km² tasking)
    minimum_km2: dict[str, float] = {"archive": 25.0, "tasking": 100.0}
    # a tasking's mode multiplies its price
    mode_factor: dict[str, int] = {"mono": 1, "stereo": 2, "tristereo": 3}


class Attempt(BaseModel):
    """One acquisition attempt of a tasking: its weather and the coverage of the ordered area so far."""

    outcome: Literal["acquired", "cloudy"]
    coverage_percent: float = Field(ge=0, le=100)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIRBUS_SIM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    state_dir: Path = Field(default=Path(".airbus-simulator"), description="orders.json and the packages")
    api_keys: list[SecretStr] = Field(default=[SecretStr("dev-airbus-key")], description="accepted API keys")
    token_seconds: int = Field(default=3600, gt=0, description="lifetime of an access token")
    notification_secret: SecretStr = Field(default=SecretStr("dev-airbus-secret"),
                                           description="HMAC-SHA256 key of X-Airbus-Signature")
    callback_url: str | None = Field(default=None, description="where notifications are POSTed; none: not sent")
    notification_attempts: int = Field(default=3, ge=1, description="tries of one notification (best effort)")
    notification_backoff_seconds: float = Field(default=0.5, ge=0, description="first pause between tries")
    contract_id: str = "CTR-1"
    credit: Decimal = Field(default=Decimal("250000.00"), description="the contract's initial credit, EUR")
    tariff: Tariff = Tariff()
    # the life of an order (seconds after it was placed): received for received_seconds, then (tasking) one
    # attempt every attempt_seconds until complete, then production for production_seconds, then delivered
    received_seconds: float = Field(default=10.0, ge=0)
    attempt_seconds: float = Field(default=45.0, gt=0)
    production_seconds: float = Field(default=60.0, ge=0)
    # the weather of a tasking's attempts: this sequence (if the last one stays under 100 % the order fails), or with
    # weather_random, drawn from the seed and the order's id
    weather: list[Attempt] = [Attempt(outcome="cloudy", coverage_percent=60.0),
                              Attempt(outcome="acquired", coverage_percent=100.0)]
    weather_random: bool = False
    weather_cloudy_share: float = Field(default=0.5, ge=0, le=1)
    weather_max_attempts: int = Field(default=4, ge=1, description="random weather: attempts before giving up")
    feasibility_seconds: float = Field(default=86400.0, gt=0, description="a feasibility answer's validity")
    feasibility_lead_hours: float = Field(default=48.0, ge=0, description="a window must start this far ahead")
    # the ordering API (POST /orders, /feasibility, /prices): at most one call per interval, else 429
    ordering_interval_seconds: float = Field(default=1.0, ge=0)
    ordering_tolerance_seconds: float = Field(default=0.05, ge=0, description="clock slack granted to callers")
    # fault injection: the share of /api/v1 calls answered 5xx, held without answer ("timeout"), or 429
    faults: dict[Literal["5xx", "timeout", "429"], float] = {}
    seed: int = 0
    # deliver truncated zips (a damaged download), for tests of what the platform does with one
    corrupt_packages: bool = False
    timeout_hold_seconds: float = Field(default=60.0, ge=0, description="how long a time-out fault holds a call")
    tick_seconds: float = Field(default=0.5, gt=0, description="how often lifecycles are looked at to notify")
    log_level: str = "info"
