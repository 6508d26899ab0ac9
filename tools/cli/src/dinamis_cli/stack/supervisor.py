"""Supervision of a profile's service processes, as Kubernetes restarts a pod's container.

One small process per profile (``python -m dinamis_cli.stack.supervisor --profile P --root R``,
detached, pid file ``run/supervisor.pid``) starts the services it is asked to run and restarts one
whose process exited without being asked to: after 1 s, then 2, 4… up to 60 s while it keeps
exiting (CrashLoopBackOff); a process that ran 5 minutes starts the series again. A service stopped
on purpose (``hold``, which ``stop_service`` and ``dinamis down`` call first) stays stopped.

What it is asked and what it did live in the profile's ``supervisor/`` directory:
``<name>.spec.json`` (argv, environment, cwd: mode 0600, it holds the service's secrets),
``<name>.stopped`` (a stop on purpose), ``<name>.state.json`` (state ``running`` / ``backoff`` /
``stopped``, pid, restarts since the last start on purpose, last exit code and time).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dinamis_cli.stack import process
from dinamis_cli.stack.profile import Profile

NAME = "supervisor"
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Backoff:
    """The delay before restarting a process that exited ``failures`` times in a row."""

    initial: float = 1.0
    cap: float = 60.0
    reset_after: float = 300.0  # seconds of running that forgive the exits before

    def delay(self, failures: int) -> float:
        return min(self.cap, self.initial * 2 ** max(failures - 1, 0))

    def failures_after_exit(self, failures: int, uptime: float) -> int:
        """Consecutive failures once a process that ran ``uptime`` seconds exited."""
        return 1 if uptime >= self.reset_after else failures + 1


def directory(profile: Profile) -> Path:
    return profile.path(NAME)


def _spec_file(profile: Profile, name: str) -> Path:
    return directory(profile) / f"{name}.spec.json"


def _marker(profile: Profile, name: str) -> Path:
    return directory(profile) / f"{name}.stopped"


def _state_file(profile: Profile, name: str) -> Path:
    return directory(profile) / f"{name}.state.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def state(profile: Profile, name: str) -> dict[str, Any] | None:
    """What the supervisor last recorded of ``name`` (``None``: never supervised)."""
    return _read_json(_state_file(profile, name))


def held(profile: Profile, name: str) -> bool:
    return _marker(profile, name).exists()


def hold(profile: Profile, name: str) -> None:
    """Marks ``name`` as stopped on purpose: its next exit is not restarted."""
    directory(profile).mkdir(parents=True, exist_ok=True)
    _marker(profile, name).touch()


def request(profile: Profile, name: str, argv: list[str], env: dict[str, str], cwd: Path | None) -> str:
    """Asks the supervisor to run ``name`` (now, forgetting any back-off); the request's id."""
    generation = uuid.uuid4().hex
    _write_json(_spec_file(profile, name), {"argv": argv, "env": env, "cwd": str(cwd) if cwd else None,
                                            "generation": generation})
    _marker(profile, name).unlink(missing_ok=True)
    return generation


def requested(profile: Profile, name: str) -> bool:
    """Whether the supervisor was ever asked to run ``name`` (a process started before the stack had
    a supervisor was not)."""
    return _spec_file(profile, name).exists()


def pid(profile: Profile) -> int | None:
    return process.read_pid(profile, NAME)


def ensure_running(profile: Profile, timeout: float = 20.0) -> int:
    """The profile's supervisor, started (detached) unless it runs."""
    if (running := pid(profile)) is not None:
        return running
    proc = process.launch(profile, NAME, [sys.executable, "-m", "dinamis_cli.stack.supervisor",
                                          "--profile", profile.name, "--root", str(profile.root)])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (running := pid(profile)) is not None:
            return running
        if proc.poll() is not None and pid(profile) is None:  # lost the lock to another, or failed
            time.sleep(0.2)
            if (running := pid(profile)) is not None:
                return running
            raise RuntimeError(f"the supervisor exited (log: {process.log_file(profile, NAME)})")
        time.sleep(0.05)
    raise RuntimeError(f"the supervisor did not start in {timeout:.0f}s (log: {process.log_file(profile, NAME)})")


def stop(profile: Profile) -> bool:
    """Stops the supervisor (the services keep running: stop them after, with ``hold`` first)."""
    return process.stop(profile, NAME, signal.SIGTERM, timeout=10)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Watched:
    """One service as the supervisor sees it."""

    name: str
    generation: str | None = None
    proc: subprocess.Popen[bytes] | None = None  # a child of this supervisor
    adopted: int | None = None  # a process started before this supervisor (no exit code to read)
    started: float = 0.0  # monotonic
    failures: int = 0
    next_start: float = 0.0  # monotonic
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else self.adopted


class Supervisor:
    def __init__(self, profile: Profile, policy: Backoff = Backoff()) -> None:
        self.profile, self.policy = profile, policy
        self.watched: dict[str, _Watched] = {}
        self.stopping = False

    def _get(self, name: str) -> _Watched:
        if name not in self.watched:  # what an earlier supervisor recorded carries on
            record = state(self.profile, name) or {}
            self.watched[name] = _Watched(name, record.get("generation"), failures=record.get("failures", 0),
                                          record={"restarts": 0, **record})
        return self.watched[name]

    def _save(self, w: _Watched, **changes: Any) -> None:
        w.record.update(changes, generation=w.generation, failures=w.failures)
        _write_json(_state_file(self.profile, w.name), w.record)

    def _exited(self, w: _Watched) -> tuple[bool, int | None]:
        """Whether the process ended, and its exit code (``None`` when adopted: unknown; a signal ``-N``)."""
        if w.proc is not None:
            code = w.proc.poll()
            return code is not None, code
        return w.adopted is not None and not process.alive(w.adopted), None

    def _on_exit(self, w: _Watched, code: int | None) -> None:
        uptime = time.monotonic() - w.started
        w.proc = w.adopted = None
        last = {"last_exit_code": code, "last_exit_at": _now()}
        if held(self.profile, w.name):
            w.failures = 0
            self._save(w, state="stopped", pid=None, next_start_at=None, **last)
            return
        w.failures = self.policy.failures_after_exit(w.failures, uptime)
        delay = self.policy.delay(w.failures)
        w.next_start = time.monotonic() + delay
        print(f"{_now()} {w.name} exited ({code}); restart in {delay:.0f}s", flush=True)
        self._save(w, state="backoff", pid=None, restarts=w.record.get("restarts", 0) + 1,
                   next_start_at=datetime.fromtimestamp(time.time() + delay, UTC).isoformat(timespec="seconds"),
                   **last)

    def _start(self, w: _Watched, spec: dict[str, Any]) -> None:
        w.started = time.monotonic()
        try:
            w.proc = process.launch(self.profile, w.name, spec["argv"], spec.get("env") or {},
                                    Path(spec["cwd"]) if spec.get("cwd") else None)
        except (OSError, KeyError, TypeError) as exc:  # a missing program is retried like an exit
            print(f"{_now()} {w.name} could not be started: {exc!r}", flush=True)
            self._on_exit(w, 127)
            return
        process.pid_file(self.profile, w.name).write_text(str(w.proc.pid))
        if held(self.profile, w.name):  # stopped on purpose while this one was starting
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(w.proc.pid, signal.SIGTERM)
            return
        print(f"{_now()} {w.name} started (pid {w.proc.pid})", flush=True)
        self._save(w, state="running", pid=w.proc.pid, next_start_at=None)

    def tick(self) -> None:
        """One look at every service: reap the exited, start the wanted."""
        for w in self.watched.values():
            if w.pid is not None and (ended := self._exited(w))[0]:
                self._on_exit(w, ended[1])
        for spec_path in sorted(directory(self.profile).glob("*.spec.json")):
            name = spec_path.name.removesuffix(".spec.json")
            spec = _read_json(spec_path)
            if spec is None:
                continue
            w = self._get(name)
            if w.pid is not None:
                continue
            if spec.get("generation") != w.generation:  # started on purpose: a new series
                w.generation, w.failures, w.next_start = spec.get("generation"), 0, 0.0
                w.record.update(restarts=0, last_exit_code=None, last_exit_at=None)
            if held(self.profile, name):
                if w.record.get("state") != "stopped":
                    self._save(w, state="stopped", pid=None, next_start_at=None)
                continue
            if (running := process.read_pid(self.profile, name)) is not None:  # started before this supervisor
                w.adopted, w.started = running, time.monotonic()
                self._save(w, state="running", pid=running, next_start_at=None)
            elif time.monotonic() >= w.next_start:
                self._start(w, spec)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        while not self.stopping:
            try:
                self.tick()
            except Exception:  # a bad file in the directory must not end the supervision of the others
                traceback.print_exc()
                sys.stdout.flush()
            time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--root", required=True, type=Path)
    args = parser.parse_args(argv)
    profile = Profile(args.profile, args.root)
    directory(profile).mkdir(parents=True, exist_ok=True)
    lock = open(directory(profile) / "lock", "w")  # held (locked) for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"{_now()} another supervisor runs for this profile", flush=True)
        return
    process.pid_file(profile, NAME).write_text(str(os.getpid()))
    print(f"{_now()} supervisor of profile {profile.name} started (pid {os.getpid()})", flush=True)
    try:
        Supervisor(profile).run()
    finally:
        with contextlib.suppress(OSError):
            if process.pid_file(profile, NAME).read_text().strip() == str(os.getpid()):
                process.pid_file(profile, NAME).unlink()
        print(f"{_now()} supervisor stopped; the services keep running", flush=True)


if __name__ == "__main__":
    main()
