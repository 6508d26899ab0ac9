"""What the gateway's use case needs, built once by the bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway_service.domain.retry import RetryPolicy
from gateway_service.service_layer.ports import Upstream


@dataclass(frozen=True)
class Gateway:
    upstream: Upstream
    services: Mapping[str, str]  # name → base URL
    policy: RetryPolicy
