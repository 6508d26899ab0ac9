"""What the gateway's use case needs, built once by the bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway_service.domain.retry import RetryPolicy
from gateway_service.service_layer.ports import Upstream
from gateway_service.service_layer.rate_limiting import RateLimiter


@dataclass(frozen=True)
class Gateway:
    upstream: Upstream
    services: Mapping[str, str]  # name → base URL
    policy: RetryPolicy
    limiter: RateLimiter | None = None  # None: no rate limits (RATE_LIMITS_ENABLED=false)
    public_scheme: str = "http"  # the platform's public origin (PUBLIC_URL), told to the services
    public_host: str = "127.0.0.1:8000"
