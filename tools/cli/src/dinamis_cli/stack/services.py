"""The platform's services as local processes (``python -m <name>_service``)."""

from __future__ import annotations

import signal
import sys

import httpx

from dinamis_cli.stack import indexes, process
from dinamis_cli.stack.profile import SERVICES, Profile


def healthy(profile: Profile, name: str, path: str = "/readyz") -> bool:
    try:
        return httpx.get(profile.service_url(name) + path, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_service(profile: Profile, name: str, timeout: float = 90.0, env: dict[str, str] | None = None) -> bool:
    """Starts one service unless it already runs; ``True`` if it was started now. ``env``: settings
    over the profile's (a benchmark serving the catalogue from its own database)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}")
    if process.read_pid(profile, name) is not None:
        return False
    pid = process.spawn(profile, name, [sys.executable, "-m", f"{name}_service"],
                        env={**profile.service_env(name), **(env or {})}, cwd=profile.root)
    process.wait_until(lambda: healthy(profile, name), timeout, f"service {name}", pid,
                       process.log_file(profile, name))
    return True


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
    return process.stop(profile, name, sig, timeout=20)
