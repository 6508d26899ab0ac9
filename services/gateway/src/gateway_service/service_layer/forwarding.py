"""Forwarding a call: sent again after a short back-off when the connection failed before any
answer and sending again is safe; otherwise a clear refusal the caller can retry later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gateway_service.domain.errors import UpstreamTimeout, UpstreamUnavailable
from gateway_service.domain.retry import HONOURS_IDEMPOTENCY_KEY, replayable
from gateway_service.service_layer.context import Gateway
from gateway_service.service_layer.ports import Answer, Call, Dropped, NoAnswerInTime, NotSent

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Forwarded:
    answer: Answer
    attempts: int


async def forward(gateway: Gateway, service: str, call: Call, sleep: Sleep = asyncio.sleep) -> Forwarded:
    """The service's answer and how many sends it took. Raises :class:`UpstreamUnavailable`
    (503) or :class:`UpstreamTimeout` (504), each carrying the number of sends."""
    base_url, policy = gateway.services[service], gateway.policy
    may_replay = replayable(call.method, _lower(call.headers), call.path)
    sent = 0
    while True:
        sent += 1
        try:
            return Forwarded(await gateway.upstream.send(base_url, call), sent)
        except NoAnswerInTime:
            raise UpstreamTimeout(service, f"the {service} service did not answer in time", sent) from None
        except NotSent as exc:
            if sent >= policy.attempts:
                raise UpstreamUnavailable(service, f"the {service} service cannot be reached", sent) from exc
            reason = exc
        except Dropped as exc:
            if not may_replay:
                raise UpstreamUnavailable(
                    service,
                    f"the connection to the {service} service was lost before it answered: the call may or may "
                    f"not have been applied; look before sending it again" + (
                        " (an Idempotency-Key lets the gateway retry such a call)"
                        if call.path.rstrip("/") in HONOURS_IDEMPOTENCY_KEY else ""),
                    sent) from exc
            if sent >= policy.attempts:
                raise UpstreamUnavailable(
                    service, f"the {service} service closed the connection {sent} times before answering",
                    sent) from exc
            reason = exc
        log.info("sending again to %s after %s: %s", service, type(reason).__name__, reason,
                 extra={"fields": {"service": service, "attempt": sent + 1}})
        await sleep(policy.delay(sent))


def _lower(headers: list[tuple[str, str]]) -> Mapping[str, str]:
    return {k.lower(): v for k, v in headers}
