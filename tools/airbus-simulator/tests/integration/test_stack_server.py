"""The simulator as a server of the stack (``dinamis_cli.stack.servers.REGISTRY``): started like the others,
listed by ``dinamis status --json`` as ``airbus-simulator``, and the services are told how to reach it. In a
stack home of its own (``DINAMIS_HOME``) on a free port, so it never touches the shared test stack's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def own_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from dinamis_cli import stack

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DINAMIS_HOME", str(tmp_path))
    monkeypatch.setenv("DINAMIS_AIRBUS_SIMULATOR_PORT", str(port))
    monkeypatch.delenv("AIRBUS_URL", raising=False)
    profile = stack.load_profile("test")
    assert stack.start_server(profile, "airbus-simulator") is True
    yield profile
    assert stack.stop_server(profile, "airbus-simulator") is True


def test_the_stack_starts_the_simulator_lists_it_and_gives_the_services_its_address_and_key(own_stack):
    profile = own_stack
    shown = subprocess.run([sys.executable, "-m", "dinamis_cli.main", "status", "--json", "--profile", "test"],
                           capture_output=True, text=True, env={**os.environ}, timeout=120)
    rows = {r["name"]: r for r in json.loads(shown.stdout)}
    row = rows["airbus-simulator"]
    assert (row["kind"], row["healthy"], row["external"]) == ("server", True, False)
    assert row["port"] == profile.ports["airbus-simulator"] and row["pid"]

    env = profile.service_env("provisioning")
    assert env["AIRBUS_URL"] == row["url"] == f"http://127.0.0.1:{row['port']}"
    token = httpx.post(f"{env['AIRBUS_URL']}/api/v1/auth/token", data={"apikey": env["AIRBUS_API_KEY"]})
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
    assert len(env["AIRBUS_NOTIFICATION_SECRET"]) >= 24
