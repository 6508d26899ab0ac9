"""What the forwarding needs from a transport to the services (an httpx pool in production, a
fake in unit tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway_service.domain.limits import Count, Hit


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # as received: /api/<service>/... or /stac/...
    query: bytes  # the raw query string, as received
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Answer:
    """A service's response whose body is still to be read; ``close`` frees the connection."""

    status: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class NotSent(Exception):
    """No connection could be opened: the service never saw the call."""


class Dropped(Exception):
    """The connection was closed or reset before any byte of an answer: the service may have
    seen the call."""


class NoAnswerInTime(Exception):
    """Sent, and no answer within the time-out."""


class Upstream(Protocol):
    async def send(self, base_url: str, call: Call) -> Answer:
        """The answer's status and headers; raises :class:`NotSent`, :class:`Dropped` or
        :class:`NoAnswerInTime`."""
        ...


class CountersUnavailable(Exception):
    """The shared counters could not be read or written in time."""


class Counters(Protocol):
    """Counters every gateway replica shares."""

    async def add(self, hits: Sequence[Hit]) -> list[Count]:
        """Adds one to each hit's counter (all at once) and returns the counts, in order; raises
        :class:`CountersUnavailable`."""
        ...
