"""When a call may be sent to a service again.

A call the service may have received is sent again only when doing it twice is the same as
doing it once: an idempotent method, or a POST carrying an ``Idempotency-Key`` (the service
then recognises the replay). A call that provably never left (the connection could not be
opened) may always be sent again."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def replayable(method: str, headers: Mapping[str, str]) -> bool:
    """``headers`` with lower-case names."""
    method = method.upper()
    return method in IDEMPOTENT or (method == "POST" and bool(headers.get("idempotency-key", "").strip()))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # sends in all, the first included
    backoff_seconds: float = 0.05  # before the second send; doubled for each next one
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0), compare=False)  # noqa: S311

    def delay(self, sent: int) -> float:
        """How long to wait after the ``sent``-th send failed."""
        return self.backoff_seconds * (2 ** (sent - 1)) * self.jitter()
