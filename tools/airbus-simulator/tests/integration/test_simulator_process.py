"""The simulator as the stack runs it: a process (``python -m airbus_simulator``, uvicorn on a free port),
driven over HTTP from a token to a delivered tasking order, its signed notifications received by a callback
server, its orders kept across a restart."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

KEY, SECRET = "integration-key", "integration-secret"
AOI = {"type": "Polygon", "coordinates": [[[5.36, 43.28], [5.42, 43.28], [5.42, 43.32], [5.36, 43.32], [5.36, 43.28]]]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Callback:
    """A receiver of the notifications: keeps each raw body with its signature header."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((body, self.headers.get("X-Airbus-Signature", "")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/provisioning/airbus/notifications"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Process:
    def __init__(self, state: Path, callback: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "AIRBUS_SIM_PORT": str(self.port), "AIRBUS_SIM_STATE_DIR": str(state),
                    "AIRBUS_SIM_API_KEYS": json.dumps([KEY]), "AIRBUS_SIM_NOTIFICATION_SECRET": SECRET,
                    "AIRBUS_SIM_CALLBACK_URL": callback, "AIRBUS_SIM_RECEIVED_SECONDS": "0.3",
                    "AIRBUS_SIM_ATTEMPT_SECONDS": "0.5", "AIRBUS_SIM_PRODUCTION_SECONDS": "0.5",
                    "AIRBUS_SIM_TICK_SECONDS": "0.1", "AIRBUS_SIM_LOG_LEVEL": "warning"}
        self.log = state / "simulator.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "airbus_simulator"], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/_simulator/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"the simulator did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[tuple[Process, Callback]]:
    callback = Callback()
    process = Process(tmp_path, callback.url)
    process.start()
    yield process, callback
    process.stop()
    callback.server.shutdown()


def until(check: Any, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError("not reached in time")


def test_token_price_feasibility_order_then_delivered_over_http_with_signed_notifications(simulator):
    process, callback = simulator
    http = httpx.Client(base_url=process.url, timeout=10)
    assert http.post("/api/v1/auth/token", data={"apikey": "nope"}).status_code == 401
    token = http.post("/api/v1/auth/token", data={"apikey": KEY}).json()
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    assert http.get("/api/v1/contracts").json()["items"][0]["missions"] == ["PLEIADES", "SPOT"]

    start = datetime.now(UTC) + timedelta(days=3)
    window = {"start": start.isoformat(), "end": (start + timedelta(days=10)).isoformat()}
    body = {"customer_reference": "req-process", "kind": "tasking", "mission": "SPOT", "aoi": AOI,
            "window": window, "mode": "stereo"}
    price = http.post("/api/v1/prices", json=body).json()
    assert price["invoiced_km2"] == 100.0 and price["price"] == "1600.00"  # tasking minimum, SPOT 8.00, stereo x2
    time.sleep(1.05)  # the ordering API takes one call a second
    feasibility = http.post("/api/v1/feasibility", json={**body, "customer_reference": None}).json()
    assert feasibility["feasible"] is True
    time.sleep(1.05)
    placed = http.post("/api/v1/orders", json={**body, "feasibility_id": feasibility["id"]})
    assert placed.status_code == 201, placed.text
    order = placed.json()

    done = until(lambda: (o := http.get(f"/api/v1/orders/{order['id']}").json())["status"] == "delivered" and o)
    assert done["coverage_percent"] == 100.0 and done["price"] == "1600.00"
    attempts = http.get(f"/api/v1/orders/{order['id']}/acquisitions").json()["items"]
    assert [(a["outcome"], a["coverage_percent"]) for a in attempts] == [("cloudy", 60.0), ("acquired", 100.0)]
    package = http.get(f"/api/v1/orders/{order['id']}/delivery")
    assert package.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert {n.split("_", 1)[0] for n in names} == {"DIM", "IMG", "PREVIEW"}

    notes = until(lambda: len(callback.received) >= 5 and callback.received)
    for raw, signature in notes:
        assert signature == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    seen = [(n["event"], n["status"]) for n in (json.loads(raw) for raw, _ in notes)]
    # each kind in its order; the last attempt and production start at the same instant, so the two
    # kinds may interleave either way there (a CI run on a loaded machine saw production first)
    assert [status for event, status in seen if event == "status"] == ["acquiring", "production", "delivered"]
    assert [status for event, status in seen if event == "acquisition"] == ["acquiring", "acquiring"]
    assert seen[0] == ("status", "acquiring") and seen[-1] == ("status", "delivered") and len(seen) == 5
    log = http.get("/_simulator/orders").json()
    assert log["by_customer_reference"] == {"req-process": 1} and len(log["ordering_calls"]) == 3

    process.stop()  # a restart keeps the orders (and the token: it is signed, not remembered)
    process.start()
    assert http.get(f"/api/v1/orders/{order['id']}").json()["status"] == "delivered"
    assert http.get("/_simulator/orders").json()["by_customer_reference"] == {"req-process": 1}
