"""When a call may be sent to a service again.

A call the service may have received is sent again only when doing it twice is the same as
doing it once: an idempotent method, or a POST carrying an ``Idempotency-Key`` to a route whose
service recognises the replay (``HONOURS_IDEMPOTENCY_KEY``). A call that provably never left (the
connection could not be opened) may always be sent again."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# POST routes whose service recognises a replayed Idempotency-Key (elsewhere the header means nothing)
HONOURS_IDEMPOTENCY_KEY = frozenset({"/api/requests"})


def replayable(method: str, headers: Mapping[str, str], path: str = "") -> bool:
    """``headers`` with lower-case names; ``path`` as received."""
    method = method.upper()
    if method in IDEMPOTENT:
        return True
    return (method == "POST" and path.rstrip("/") in HONOURS_IDEMPOTENCY_KEY
            and bool(headers.get("idempotency-key", "").strip()))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # sends in all, the first included
    backoff_seconds: float = 0.05  # before the second send; doubled for each next one
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0), compare=False)  # noqa: S311

    def delay(self, sent: int) -> float:
        """How long to wait after the ``sent``-th send failed."""
        return self.backoff_seconds * (2 ** (sent - 1)) * self.jitter()
