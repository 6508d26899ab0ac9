"""Class "one request crashes or freezes a service" (issue 11), its other half: a service process that
dies is started again by the stack, as Kubernetes restarts a container, and counted.

Before this change a process that died (the catalogue's exit 139 on a nested filter) stayed down
until someone restarted the stack by hand. Here a real service, ``python -m arbitration_service`` as
``dinamis up`` runs it, is SIGKILLed under the supervisor of a private profile (its own state
directory and port, its own Kafka namespace and database on the real servers: the test profile's
running services are left alone) and answers ``/readyz`` again, with its settings.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

SERVICE = "arbitration"


@pytest.fixture
def private_stack(servers, tmp_path, monkeypatch, unique):
    """(profile, the service's settings): profile ``test`` moved to a state directory and ports of its
    own; the service gets the test profile's settings pointed at a sandbox of the real servers."""
    from dinamis_cli import stack
    from dinamis_cli.stack import supervisor
    from dinamis_testkit.inprocess import free_port
    from pymongo import MongoClient

    settings = stack.load_profile("test").service_env(SERVICE)  # the real servers, as the stack's services have them
    monkeypatch.setenv("DINAMIS_HOME", str(tmp_path))
    for name in stack.SERVICES:
        monkeypatch.setenv(f"DINAMIS_{name.upper()}_PORT", str(free_port()))
    profile = stack.load_profile("test")
    settings.update({"HTTP_PORT": str(profile.ports[SERVICE]), "KAFKA_BOOTSTRAP_SERVERS": servers.kafka,
                     "MONGODB_URI": servers.mongodb_uri, "KAFKA_NAMESPACE": f"t{unique}.",
                     "MONGODB_DATABASE": f"t{unique}_{SERVICE}"})
    if servers.kafka_auth.sasl:  # namespaced topics: the Kafka administrator, not the service's own user
        settings.update({"KAFKA_SECURITY_PROTOCOL": servers.kafka_auth.security_protocol,
                         "KAFKA_SASL_MECHANISM": servers.kafka_auth.sasl_mechanism,
                         "KAFKA_USERNAME": servers.kafka_auth.username, "KAFKA_PASSWORD": servers.kafka_auth.password})
    yield profile, settings
    supervisor.stop(profile)
    stack.stop_service(profile, SERVICE)
    with MongoClient(servers.mongodb_uri) as client:
        client.drop_database(settings["MONGODB_DATABASE"])


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def test_a_killed_service_process_is_restarted_and_answers_readyz_again(private_stack):
    from dinamis_cli import stack
    from dinamis_cli.stack import process

    profile, settings = private_stack
    assert stack.start_service(profile, SERVICE, timeout=120, env=settings)
    victim = process.read_pid(profile, SERVICE)
    readyz = profile.service_url(SERVICE) + "/readyz"
    assert httpx.get(readyz, timeout=5).status_code == 200

    os.kill(victim, signal.SIGKILL)

    deadline, answer = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(readyz, timeout=2)
            if answer.status_code == 200 and process.read_pid(profile, SERVICE) not in (None, victim):
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    assert answer is not None and answer.status_code == 200, "the service did not come back"
    row = next(r for r in stack.status(profile) if r["name"] == SERVICE)
    assert row["state"] == "running" and row["restarts"] == 1 and row["healthy"]
    assert row["last_exit"]["code"] == -signal.SIGKILL
    assert row["pid"] != victim
    restarted = _environment(row["pid"])  # the same sandbox as before, not the profile's defaults
    assert restarted["KAFKA_NAMESPACE"] == settings["KAFKA_NAMESPACE"]
    assert restarted["MONGODB_DATABASE"] == settings["MONGODB_DATABASE"]
