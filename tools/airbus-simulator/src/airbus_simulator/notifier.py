"""Notifications to the contract's callback URL, signed ``X-Airbus-Signature: sha256=<HMAC-SHA256 of the raw
body>``, best effort: retried a few times with a growing pause, then given up (the receiver polls anyway)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

log = logging.getLogger("airbus_simulator.notifications")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Notifier:
    def __init__(self, url: str | None, secret: str, attempts: int, backoff: float,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url, self.secret, self.attempts, self.backoff = url, secret, attempts, backoff
        self.client = client or httpx.AsyncClient(timeout=5.0)
        self.tasks: set[asyncio.Task[bool]] = set()

    def notify(self, payload: dict[str, Any]) -> None:
        """Sends in the background; the lifecycle never waits for the receiver."""
        if not self.url:
            return
        task = asyncio.get_running_loop().create_task(self.send(payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send(self, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Airbus-Signature": signature(self.secret, body)}
        for attempt in range(self.attempts):
            try:
                response = await self.client.post(self.url or "", content=body, headers=headers)
                if response.status_code < 300:
                    return True
                log.warning("notification %s answered %s", payload, response.status_code)
            except httpx.HTTPError as e:
                log.warning("notification %s not delivered: %r", payload, e)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.backoff * 2**attempt)
        return False

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.drain()
        await self.client.aclose()
