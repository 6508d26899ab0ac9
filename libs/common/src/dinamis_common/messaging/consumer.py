"""At-least-once, idempotent consumers with retry and dead-letter topics.

Offsets are committed only after the handler returned (never faststream's at-most-once
``ACK_FIRST``). What a failure does depends on its kind:

* infrastructure down (database, broker): the record is *not* acknowledged and comes back
  after a pause: nothing is lost and the order of an aggregate's events is kept;
* a record that can never be read (not a CloudEvent, payload invalid, ``PermanentError``):
  straight to ``<topic>.dlq`` with the reason in headers;
* anything else: to ``<topic>.retry`` with an attempt count and a not-before time, handled
  again by the same consumer group, then to ``<topic>.dlq`` after ``max_attempts``.

Handlers must be idempotent on ``event.id`` (``AggregateStore.update(applied=...)`` or a
deterministic ``_id``): a record is redelivered after any crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import trace
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure

from dinamis_common.messaging.envelope import CloudEvent, MalformedEvent

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent], Awaitable[None]]

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (ConnectionFailure, KafkaError, OSError, TimeoutError)
H_GROUP, H_ATTEMPT, H_ERROR, H_NOT_BEFORE, H_TOPIC = (
    "x-dinamis-group",
    "x-dinamis-attempt",
    "x-dinamis-error",
    "x-dinamis-not-before",
    "x-dinamis-original-topic",
)


def dispatch(routes: Mapping[str, tuple[type[BaseModel], Callable[[Any, CloudEvent], Awaitable[None]]]]) -> Handler:
    """A handler from a table ``event type -> (payload model, coroutine(payload, event))``.
    Other types on the topic are not this consumer's business and are skipped (tolerant
    reader); a payload that does not validate is dead-lettered."""

    async def handle(event: CloudEvent) -> None:
        route = routes.get(event.type)
        if route is not None:
            model, apply = route
            await apply(model.model_validate(event.data), event)

    return handle


class PermanentError(Exception):
    """Raised by a handler for a record that will never succeed: dead-lettered at once."""


def retry_topic(topic: str) -> str:
    return f"{topic}.retry"


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def _text_headers(msg: KafkaMessage) -> dict[str, str]:
    raw = msg.raw_message.headers or ()
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in raw}


def subscribe(
    broker: KafkaBroker,
    topic: str,
    group: str,
    handler: Handler,
    *,
    max_attempts: int = 3,
    retry_base_seconds: float = 1.0,
    infra_pause_seconds: float = 1.0,
) -> None:
    """Register ``handler`` for CloudEvents on ``topic`` (and its retry topic) in ``group``."""

    async def forward(target: str, body: bytes, headers: dict[str, str], key: bytes | None) -> None:
        await broker.publish(body, topic=target, key=key, headers=headers)

    async def consume(body: Any, message: KafkaMessage) -> None:
        record = message.raw_message
        headers = _text_headers(message)
        is_retry = record.topic == retry_topic(topic)
        if is_retry and headers.get(H_GROUP) != group:
            return  # another group's retry
        attempt = int(headers.get(H_ATTEMPT, "0"))
        if is_retry:
            delay = float(headers.get(H_NOT_BEFORE, "0")) - time.time()
            if delay > 0:
                await asyncio.sleep(min(delay, 60.0))
        try:
            event = CloudEvent.from_record(headers, record.value or b"")
            trace.get_current_span().set_attribute("cloudevents.event_type", event.type)
            await handler(event)
        except (MalformedEvent, ValidationError, PermanentError) as exc:
            log.error("dead-lettering record from %s: %s", topic, exc)
            await forward(dlq_topic(topic), record.value or b"", _failure(headers, group, topic, attempt, exc),
                          record.key)
        except INFRASTRUCTURE_ERRORS:
            log.warning("infrastructure unavailable while handling %s; record will be redelivered", topic,
                        exc_info=True)
            await asyncio.sleep(infra_pause_seconds)
            raise  # not acknowledged: the broker redelivers it
        except Exception as exc:
            attempt += 1
            failed = _failure(headers, group, topic, attempt, exc)
            if attempt >= max_attempts:
                log.error("dead-lettering record from %s after %d attempts: %s", topic, attempt, exc)
                await forward(dlq_topic(topic), record.value or b"", failed, record.key)
            else:
                failed[H_NOT_BEFORE] = str(time.time() + retry_base_seconds * 2 ** (attempt - 1))
                log.warning("handler failed on %s (attempt %d), sent to retry: %s", topic, attempt, exc)
                await forward(retry_topic(topic), record.value or b"", failed, record.key)

    consume.__name__ = f"consume_{topic.replace('.', '_')}"
    broker.subscriber(
        topic,
        retry_topic(topic),
        group_id=group,
        decoder=_raw_body,  # we parse the CloudEvent ourselves, so an unreadable body is dead-lettered
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        max_poll_interval_ms=300_000,
    )(consume)


async def _raw_body(message: Any) -> bytes:
    return message.body


def _failure(headers: dict[str, str], group: str, topic: str, attempt: int, exc: Exception) -> dict[str, str]:
    kept = {k: v for k, v in headers.items() if k.startswith("ce_") or k == "content-type"}
    return {
        **kept,
        H_GROUP: group,
        H_ATTEMPT: str(attempt),
        H_ERROR: f"{type(exc).__name__}: {exc}"[:1000],
        H_TOPIC: topic,
    }
