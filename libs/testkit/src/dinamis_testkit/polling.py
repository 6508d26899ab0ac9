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


async def until_answers(url: str, proc: asyncio.subprocess.Process, timeout: float = 60.0) -> None:
    """Until ``url`` answers 200 (a process a test started becoming ready); fails at once if ``proc``
    exited first."""
    import httpx

    async def answers() -> bool:
        if proc.returncode is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(url, timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    await until(answers, timeout)
