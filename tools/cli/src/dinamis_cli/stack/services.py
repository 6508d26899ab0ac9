"""The platform's services as local processes (``python -m <name>_service``)."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

import httpx

from dinamis_cli.stack import indexes, process, supervisor
from dinamis_cli.stack.profile import SERVICES, Profile


def healthy(profile: Profile, name: str, path: str = "/readyz") -> bool:
    try:
        return httpx.get(profile.service_url(name) + path, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_service(profile: Profile, name: str, timeout: float = 90.0, env: dict[str, str] | None = None) -> bool:
    """Starts one service unless it already runs; ``True`` if it was started now. ``env``: settings
    over the profile's (a benchmark serving the catalogue from its own database), kept for the
    restarts. The profile's supervisor runs it and restarts it if it dies (``supervisor``)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}")
    return supervise(profile, name, [sys.executable, "-m", f"{name}_service"],
                     {**profile.service_env(name), **(env or {})}, lambda: healthy(profile, name), timeout)


def supervise(profile: Profile, name: str, argv: list[str], env: dict[str, str], ready: Callable[[], bool],
              timeout: float = 90.0) -> bool:
    """Has the profile's supervisor run ``argv`` as ``name`` (started unless it runs: ``True`` if now),
    then waits until ``ready()``. A process that exits before it is ready is not retried: the start
    fails with the end of its log."""
    supervisor.ensure_running(profile)
    if process.read_pid(profile, name) is not None:
        if not supervisor.requested(profile, name):  # started before the stack had a supervisor: adopted
            supervisor.request(profile, name, argv, env, profile.root)
        return False
    generation = supervisor.request(profile, name, argv, env, profile.root)
    log = process.log_file(profile, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        seen = supervisor.state(profile, name) or {}
        if seen.get("generation") == generation and (seen.get("state") != "running" or seen.get("restarts")):
            supervisor.hold(profile, name)
            process.stop(profile, name)
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"service {name} exited during start-up (exit code {seen.get('last_exit_code')})."
                               f" Last log lines:\n{tail}")
        if supervisor.pid(profile) is None:
            raise RuntimeError(f"the supervisor of profile {profile.name} stopped while {name} was starting")
        time.sleep(0.25)
    raise RuntimeError(f"service {name} not ready after {timeout:.0f}s (log: {log})")


def start_services(profile: Profile, names: list[str] | None = None) -> list[str]:
    """Starts those not running (the gateway last), then gives the collections they created the
    stack's FerretDB index support."""
    started = []
    for name in names or SERVICES:
        if start_service(profile, name):
            started.append(name)
    indexes.ensure(profile)
    return started


def stop_service(profile: Profile, name: str, sig: int = signal.SIGTERM) -> bool:
    """Stops one service on purpose: the supervisor is told first, so it does not restart it."""
    supervisor.hold(profile, name)
    stopped = process.stop(profile, name, sig, timeout=20)
    if process.read_pid(profile, name) is not None:  # a restart begun before the supervisor saw the hold
        stopped = process.stop(profile, name, sig, timeout=20) or stopped
    return stopped
