"""ASGI apps served in the test's own event loop on free loopback ports (no test framework
imported)."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class InProcessServers:
    """Starts ASGI apps on loopback ports in the running loop; ``stop()`` ends them all."""

    def __init__(self) -> None:
        self._running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
        self._names: dict[asyncio.Task[None], str] = {}

    async def start(self, app: Any, port: int, name: str = "app", timeout: float = 60.0) -> None:
        # as production (runtime.server_config): a shutdown waits at most this long for requests in progress,
        # then cancels them — unbounded, one stuck request kept a whole test session from ending
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                               timeout_graceful_shutdown=5))
        server.install_signal_handlers = lambda: None  # the test runner owns the signals
        task = asyncio.create_task(server.serve(), name=f"in-process {name}")
        self._running.append((server, task))
        self._names[task] = name
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not server.started:
            if task.done() or loop.time() > deadline:
                raise RuntimeError(f"{name} did not start")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 30.0) -> None:
        """Ask every server to exit; one still running after ``timeout`` (its shutdown stuck on
        something) is logged with where it waits, then cancelled, so a test session always ends."""
        for server, _ in reversed(self._running):
            server.should_exit = True
        tasks = [task for _, task in self._running]
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=timeout)
            for task in stuck:
                where = io.StringIO()
                task.print_stack(file=where)
                log.warning("in-process %s did not stop within %g s; cancelled while at:\n%s",
                            self._names.get(task, "server"), timeout, where.getvalue())
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._names.clear()
