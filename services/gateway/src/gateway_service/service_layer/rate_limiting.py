"""Admitting a call: one round trip to the shared counters adds it to each of its counters; over any
limit it is refused with the time to wait.

When the counters cannot be read (the store is down or slow), an ordinary call is let through
uncounted — the limits protect the platform, they must not be what takes it down — while a call of a
sensitive route (one that sends e-mail or checks a certificate) is refused with 503: unlimited
e-mail to anyone's address is the abuse these limits exist for. Each such failure is counted
(``gateway.rate_limit.store_failures``) and logged."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gateway_service.domain.errors import BodyTooLarge, LimitsUnavailable, RateLimited
from gateway_service.domain.limits import Count, Hit, Limits, RouteClass, hits, refusal, route_class, target_addresses
from gateway_service.service_layer.ports import Counters, CountersUnavailable

log = logging.getLogger(__name__)

STORE_RETRY_AFTER_SECONDS = 5


def _ignore(*_: object) -> None:
    pass


@dataclass
class RateLimiter:
    counters: Counters
    limits: Limits
    mail_body_bytes: int = 16_384  # largest body of a call that may send e-mail (its addresses are read)
    on_refused: Callable[[str], None] = field(default=_ignore)  # the limit's name
    on_store_failure: Callable[[bool], None] = field(default=_ignore)  # whether the call was refused

    async def admit_call(self, method: str, path: str, client: str, user: str | None,
                         body: Callable[[], Awaitable[bytes]]) -> list[Count]:
        """A call to ``path`` (as routed) from ``client`` (its address), by ``user`` (the verified
        token's subject, if any); ``body`` is read only for a call that may send e-mail, whose
        target addresses are counted too."""
        cls = route_class(method, path)
        addresses: list[str] = []
        if cls is RouteClass.MAIL:
            content = await body()
            if len(content) > self.mail_body_bytes:
                raise BodyTooLarge(f"request body larger than {self.mail_body_bytes} bytes")
            addresses = target_addresses(content)
        return await self.admit(hits(self.limits, cls, client, user, addresses))

    async def admit(self, hits: Sequence[Hit]) -> list[Count]:
        """The counts after the call; raises :class:`RateLimited` (429) or :class:`LimitsUnavailable` (503)."""
        try:
            counts = await self.counters.add(hits)
        except CountersUnavailable as exc:
            closed = any(h.limit.fail_closed for h in hits)
            self.on_store_failure(closed)
            log.warning("rate-limit counters unavailable (%s): call %s", exc, "refused" if closed else "let through",
                        extra={"fields": {"limits": sorted({h.limit.name for h in hits}), "refused": closed}})
            if closed:
                raise LimitsUnavailable("this call cannot be accepted right now; try again shortly",
                                        STORE_RETRY_AFTER_SECONDS) from exc
            return []
        if (over := refusal(counts)) is not None:
            limit = over.hit.limit
            self.on_refused(limit.name)
            raise RateLimited(f"too many calls: at most {limit.requests} per {limit.seconds} s "
                              f"({_WHAT[limit.name] if limit.name in _WHAT else limit.name}); "
                              f"try again in {over.retry_after()} s", over.retry_after(), limit.name)
        return counts


_WHAT = {"ip": "from one address", "user": "for one user", "mail-ip": "that send e-mail, from one address",
         "mail-address": "that send e-mail to one address", "certificate-ip": "checking certificates, from one address"}
