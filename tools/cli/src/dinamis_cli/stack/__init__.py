"""The local stack: real servers and the platform's services as processes on 127.0.0.1.

Importable API (used by ``dinamis``, the test suite and the benchmarks)::

    profile = load_profile("test")
    start_servers(profile); start_services(profile)
    mint_token(profile, "alice", "ent-1", ["user"])
    messages(profile, to="alice@example.org")    # what the SMTP sink kept
    stop_all(profile)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dinamis_cli.stack import process, supervisor, topics
from dinamis_cli.stack.keycloak import apply_realm, ensure_sim_user, user_token
from dinamis_cli.stack.mail import messages
from dinamis_cli.stack.profile import SERVICES, Profile, load_profile
from dinamis_cli.stack.servers import REGISTRY, SERVERS, Server, server, stop_server
from dinamis_cli.stack.services import healthy, start_service, start_services, stop_service

__all__ = ["REGISTRY", "SERVERS", "SERVICES", "Profile", "Server", "ensure_installed", "ensure_sim_user",
           "load_profile", "messages", "mint_token", "server", "start_server", "start_servers", "start_service",
           "start_services", "status", "stop_all", "stop_server", "stop_service"]

Step = Callable[[str], None]


def ensure_installed(profile: Profile, step: Step = lambda _: None) -> None:
    for s in REGISTRY:
        if s.external() is None and not s.installed():
            step(f"installing {s.name} (first time only)")
            s.install(profile)


def start_server(profile: Profile, name: str) -> bool:
    """Starts one server unless it is external or already answers; ``True`` if started now."""
    s = server(name)
    if s.external() is not None:
        return False
    if process.read_pid(profile, name) is not None and s.ready(profile):
        if name == "keycloak":
            apply_realm(profile)  # a realm file changed since it started: applied now, no restart
        return False
    process.stop(profile, name)  # a stale or hung one
    s.start(profile)
    return True


def start_servers(profile: Profile, step: Step = lambda _: None) -> list[str]:
    ensure_installed(profile, step)
    started = []
    for s in REGISTRY:
        step(f"starting {s.name}")
        if start_server(profile, s.name):
            started.append(s.name)
    step("topics")
    topics.ensure(profile)
    return started


def mint_token(profile: Profile, user: str, entity: str | None, roles: list[str], category: str = "institutional",
               cells: tuple[str, ...] | list[str] = ()) -> str:
    """A real Keycloak access token for the development user ``user`` (created or updated to carry
    these claims first). Development and test stacks only."""
    return user_token(profile, user, entity, roles, category, list(cells))


def stop_all(profile: Profile, step: Step = lambda _: None) -> list[str]:
    """The supervisor first (nothing restarts what follows), then the services, then the servers."""
    stopped = []
    step("stopping the supervisor")
    if supervisor.stop(profile):
        stopped.append(supervisor.NAME)
    for name in reversed(SERVICES):
        step(f"stopping {name}")
        if stop_service(profile, name):
            stopped.append(name)
    for s in reversed(REGISTRY):
        step(f"stopping {s.name}")
        if s.stop(profile):
            stopped.append(s.name)
    return stopped


def status(profile: Profile) -> list[dict[str, Any]]:
    """Every server and service (and the services' supervisor): pid, port, URL, health; a service
    also has its ``state`` (running, backoff, stopped), ``restarts`` since it was last started on
    purpose and its ``last_exit`` (code, at)."""
    rows = []
    for s in REGISTRY:
        external = s.external()
        rows.append({"name": s.name, "kind": "server", "pid": process.read_pid(profile, s.name),
                     "port": None if external else profile.ports[s.name], "url": external or s.address(profile),
                     "healthy": s.ready(profile), "external": external is not None})
    watcher = supervisor.pid(profile)
    rows.append({"name": supervisor.NAME, "kind": "supervisor", "pid": watcher, "port": None,
                 "url": str(supervisor.directory(profile)), "healthy": watcher is not None, "external": False})
    for name in SERVICES:
        pid = process.read_pid(profile, name)
        seen = supervisor.state(profile, name) or {}
        state = seen.get("state") or ("running" if pid else "stopped")
        if pid is None and supervisor.held(profile, name):
            state = "stopped"  # on purpose (dinamis down stops the supervisor first)
        elif state == "running" and pid is None:
            state = "exited"  # and no supervisor saw it
        last_exit = ({"code": seen.get("last_exit_code"), "at": seen["last_exit_at"]}
                     if seen.get("last_exit_at") else None)
        rows.append({"name": name, "kind": "service", "pid": pid, "port": profile.ports[name],
                     "url": profile.service_url(name), "healthy": healthy(profile, name), "external": False,
                     "state": state, "restarts": seen.get("restarts", 0), "last_exit": last_exit,
                     "next_start_at": seen.get("next_start_at") if state == "backoff" else None})
    return rows
