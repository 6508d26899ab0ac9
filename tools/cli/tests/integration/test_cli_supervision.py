"""The stack's supervisor on a private profile (its own state directory and service ports; the test
profile's running servers and services are left alone): a service process that dies is started
again with a back-off and counted in ``status`` and ``dinamis status --json``; one stopped on
purpose, or by ``dinamis down``, stays stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
from dinamis_cli import stack
from dinamis_cli.stack import process, supervisor
from dinamis_cli.stack.services import healthy, supervise
from dinamis_testkit.inprocess import free_port

pytestmark = pytest.mark.integration

NAME = "catalogue"  # the tiny process stands in for it on the private profile's catalogue port

TINY = textwrap.dedent("""
    import http.server, os, sys, threading

    if os.environ.get("TINY_FAIL_AT_ONCE"):
        print("boom: cannot start", flush=True)
        sys.exit(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = os.environ.get("TINY_MARK", "").encode() if self.path == "/env" else b"ready"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    if lifetime := float(os.environ.get("TINY_LIFETIME", "0")):  # ready, then dies with 3
        threading.Timer(lifetime, lambda: os._exit(3)).start()
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["HTTP_PORT"])), Handler).serve_forever()
""")


@pytest.fixture
def private(tmp_path, monkeypatch):
    """Profile ``test`` moved to a state directory of its own, every service on a free port."""
    monkeypatch.setenv("DINAMIS_HOME", str(tmp_path))
    for name in stack.SERVICES:
        monkeypatch.setenv(f"DINAMIS_{name.upper()}_PORT", str(free_port()))
    profile = stack.load_profile("test")
    script = tmp_path / "tiny.py"
    script.write_text(TINY)
    yield profile, script
    supervisor.stop(profile)
    for name in stack.SERVICES:
        stack.stop_service(profile, name, signal.SIGKILL)


def _run_tiny(profile, script, **env: str) -> int:
    assert supervise(profile, NAME, [sys.executable, str(script)],
                     {"HTTP_PORT": str(profile.ports[NAME]), **env}, lambda: healthy(profile, NAME), timeout=20)
    pid = process.read_pid(profile, NAME)
    assert pid is not None
    return pid


def _row(profile) -> dict:
    return next(r for r in stack.status(profile) if r["name"] == NAME)


def _eventually(probe, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s; last: {probe()}")


def _dinamis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dinamis_cli.main", *args, "--profile", "test"],
                          capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_a_killed_service_is_started_again_counted_and_keeps_its_settings(private):
    profile, script = private
    first = _run_tiny(profile, script, TINY_MARK="from-the-caller")

    os.kill(first, signal.SIGKILL)

    row = _eventually(lambda: (r := _row(profile))["restarts"] == 1 and r["healthy"] and r["pid"] and r)
    assert row["pid"] != first and row["state"] == "running"
    assert row["last_exit"]["code"] == -signal.SIGKILL
    assert httpx.get(profile.service_url(NAME) + "/env").text == "from-the-caller"
    shown = {r["name"]: r for r in json.loads(_dinamis("status", "--json").stdout)}
    assert shown[NAME]["restarts"] == 1 and shown[NAME]["state"] == "running" and shown[NAME]["pid"] == row["pid"]
    assert shown["supervisor"]["healthy"] and shown["supervisor"]["pid"] == supervisor.pid(profile)


def test_a_service_stopped_on_purpose_stays_stopped(private):
    profile, script = private
    pid = _run_tiny(profile, script)

    assert stack.stop_service(profile, NAME)

    time.sleep(3)  # three times the first back-off
    row = _row(profile)
    assert not process.alive(pid) and row["pid"] is None and not row["healthy"]
    assert row["state"] == "stopped" and row["restarts"] == 0
    assert _run_tiny(profile, script) != pid  # started again on purpose


def test_a_service_that_keeps_dying_is_restarted_less_and_less_often(private):
    profile, script = private
    _run_tiny(profile, script, TINY_LIFETIME="1.5")
    restarted_at: dict[int, float] = {}

    def third_restart():
        seen = supervisor.state(profile, NAME) or {}
        restarted_at.setdefault(seen.get("restarts", 0), time.monotonic())
        return seen.get("restarts", 0) >= 3 and seen

    seen = _eventually(third_restart, timeout=30, interval=0.05)
    assert seen["last_exit_code"] == 3 and seen["state"] == "backoff" and seen["next_start_at"]
    first_gap, second_gap = restarted_at[2] - restarted_at[1], restarted_at[3] - restarted_at[2]
    assert first_gap >= 2.3 and second_gap >= first_gap + 0.7  # 1 s then 2 s of back-off, plus 1.5 s of life
    assert _row(profile)["state"] == "backoff"


def test_a_service_that_cannot_start_fails_the_start_and_is_not_retried(private):
    profile, script = private

    with pytest.raises(RuntimeError, match="boom: cannot start"):
        _run_tiny(profile, script, TINY_FAIL_AT_ONCE="1")

    time.sleep(2.5)
    seen = supervisor.state(profile, NAME)
    assert seen["state"] == "stopped" and seen["restarts"] <= 1 and process.read_pid(profile, NAME) is None


def test_dinamis_down_stops_the_supervisor_then_the_services_and_nothing_comes_back(private):
    profile, script = private
    pid = _run_tiny(profile, script)
    watcher = supervisor.pid(profile)

    done = _dinamis("down")

    assert done.returncode == 0, done.stderr
    time.sleep(2.5)
    assert not process.alive(watcher) and not process.alive(pid)
    assert process.read_pid(profile, NAME) is None and _row(profile)["state"] == "stopped"


def test_a_service_running_before_the_stack_had_a_supervisor_is_adopted(private):
    profile, script = private
    env = {"HTTP_PORT": str(profile.ports[NAME])}
    older = process.spawn(profile, NAME, [sys.executable, str(script)], env=env)  # as the stack did before
    _eventually(lambda: healthy(profile, NAME))

    assert not supervise(profile, NAME, [sys.executable, str(script)], env, lambda: healthy(profile, NAME))
    _eventually(lambda: (supervisor.state(profile, NAME) or {}).get("pid") == older)
    os.kill(older, signal.SIGKILL)

    row = _eventually(lambda: (r := _row(profile))["restarts"] == 1 and r["healthy"] and r["pid"] and r)
    assert row["pid"] != older and row["state"] == "running"
    assert row["last_exit"]["code"] is None  # not its child: the code is unknown, the exit is not
