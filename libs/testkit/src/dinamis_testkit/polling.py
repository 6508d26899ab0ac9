"""Waiting for an effect that arrives asynchronously (no test framework imported)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(probe: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    """Polls ``probe()`` until it returns something truthy; returns it (``TimeoutError`` after
    ``timeout`` seconds)."""
    async with asyncio.timeout(timeout):
        while True:
            if found := await probe():
                return found
            await asyncio.sleep(0.1)
