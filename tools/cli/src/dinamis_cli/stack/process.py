"""Detached processes with pid files, and waiting for readiness."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from dinamis_cli.stack.profile import Profile

T = TypeVar("T")


def pid_file(profile: Profile, name: str) -> Path:
    return profile.path("run", f"{name}.pid")


def log_file(profile: Profile, name: str) -> Path:
    return profile.path("logs", f"{name}.log")


def read_pid(profile: Profile, name: str) -> int | None:
    try:
        pid = int(pid_file(profile, name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is not alive
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def launch(profile: Profile, name: str, argv: list[str], env: dict[str, str] | None = None,
           cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Starts ``argv`` in a session of its own (``stop`` ends the whole group), its output appended
    to the profile's log of ``name``; no pid file (``spawn`` writes one)."""
    for d in ("run", "logs"):
        profile.path(d).mkdir(parents=True, exist_ok=True)
    with open(log_file(profile, name), "ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)


def spawn(profile: Profile, name: str, argv: list[str], env: dict[str, str] | None = None,
          cwd: Path | None = None) -> int:
    proc = launch(profile, name, argv, env, cwd)
    pid_file(profile, name).write_text(str(proc.pid))
    return proc.pid


def stop(profile: Profile, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> bool:
    """Stops the process (and its session); ``True`` if something was running."""
    pid = read_pid(profile, name)
    if pid is None:
        pid_file(profile, name).unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        while alive(pid):
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)
    pid_file(profile, name).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def wait_until(ready: Callable[[], bool], timeout: float, what: str, pid: int | None = None,
               log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if pid is not None and not alive(pid):
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited during start-up. Last log lines:\n{tail}")
        time.sleep(0.25)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s (log: {log})")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a coroutine to completion from synchronous code, also when called from inside a running
    event loop (the test suite's async fixtures start the stack): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
