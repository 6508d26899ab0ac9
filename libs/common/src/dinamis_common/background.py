"""Background tasks a runtime starts and stops (relays, periodic monitors and sweeps)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import trace

log = logging.getLogger(__name__)


async def cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancels ``task`` (if any) and waits until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Periodic:
    """A job a service runs every ``every_seconds`` while it is up (started and stopped by the runtime's
    ``on_start`` / ``on_stop`` hooks): one run at a time, each in its own span; a failed run is logged
    and the next one tries again."""

    def __init__(self, run: Callable[[], Awaitable[Any]], every_seconds: float, name: str) -> None:
        self.run, self.every, self.name = run, every_seconds, name
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        await cancelled(self.task)
        self.task = None

    async def _loop(self) -> None:
        tracer = trace.get_tracer(__name__)
        while True:
            await asyncio.sleep(self.every)
            with tracer.start_as_current_span(self.name):
                try:
                    await self.run()
                except Exception:  # an outage: the next run tries again
                    log.exception("%s failed", self.name)
