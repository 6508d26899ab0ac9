"""What the status consumers share: an upstream event applied once to its request; an event about
a request unknown here can never succeed (dead-lettered at once, not retried)."""

from __future__ import annotations

from collections.abc import Callable

from dinamis_common.messaging.consumer import PermanentError
from dinamis_common.messaging.envelope import CloudEvent

from requests_service.domain.errors import RequestNotFound
from requests_service.domain.model import Request
from requests_service.service_layer import handlers
from requests_service.service_layer.context import Requests


async def apply(ctx: Requests, request_id: str, event: CloudEvent, change: Callable[[Request], None]) -> None:
    try:
        await handlers.apply_event(ctx, request_id, event.id, change)
    except RequestNotFound as exc:
        raise PermanentError(str(exc)) from exc
