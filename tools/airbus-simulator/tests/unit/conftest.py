"""A simulator on a fake clock, its notifications recorded instead of sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airbus_simulator.app import create_app
from airbus_simulator.clock import FakeClock, iso
from airbus_simulator.notifier import Notifier
from airbus_simulator.settings import Settings
from fastapi.testclient import TestClient

KEY = "test-key"
TOULOUSE = {"type": "Polygon", "coordinates": [[[1.40, 43.55], [1.50, 43.55], [1.50, 43.62], [1.40, 43.62],
                                                 [1.40, 43.55]]]}


class RecordingNotifier(Notifier):
    def __init__(self) -> None:
        super().__init__("http://callback.invalid/", "s", 1, 0)
        self.sent: list[dict[str, Any]] = []

    def notify(self, payload: dict[str, Any]) -> None:
        self.sent.append(payload)


def settings_for(state: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"state_dir": state, "api_keys": [KEY], "received_seconds": 5, "attempt_seconds": 10,
                              "production_seconds": 20, "tick_seconds": 3600, "timeout_hold_seconds": 0}
    return Settings(**{**values, **overrides})


class Airbus:
    """The simulator's HTTP API on a fake clock, with a token already taken."""

    aoi = TOULOUSE
    key = KEY

    def __init__(self, state: Path, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.notifier = RecordingNotifier()
        self.app = create_app(settings_for(state, **overrides), self.clock, self.notifier)
        self.http = TestClient(self.app)
        self.http.__enter__()
        for _ in range(50):  # injected faults may refuse it: retried as a client does
            answer = self.http.post("/api/v1/auth/token", data={"apikey": KEY})
            if answer.status_code == 200:
                break
        token = answer.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    @property
    def sim(self) -> Any:
        return self.app.state.simulator

    def advance(self, seconds: float) -> None:
        """Time passes; the lifecycle is looked at (as the simulator's ticker does)."""
        self.clock.advance(seconds)
        self.sim.tick()

    def window(self, start_hours: float = 72, hours: float = 24 * 10) -> dict[str, str]:
        start = self.clock.now() + timedelta(hours=start_hours)
        return {"start": iso(start), "end": iso(start + timedelta(hours=hours))}

    def archive(self, reference: str = "req-1", mission: str = "PLEIADES", items: int = 1) -> dict[str, Any]:
        return {"customer_reference": reference, "kind": "archive", "mission": mission,
                "items": [{"scene_id": f"scene-{i}", "aoi": TOULOUSE} for i in range(items)]}

    def tasking(self, reference: str = "req-2", mission: str = "PLEIADES", mode: str = "mono") -> dict[str, Any]:
        window = self.window()
        answer = self.http.post("/api/v1/feasibility", json={"mission": mission, "aoi": TOULOUSE, "window": window,
                                                              "mode": mode})
        assert answer.status_code == 200, answer.text
        self.clock.advance(1)  # the ordering limit: one call a second
        return {"customer_reference": reference, "kind": "tasking", "mission": mission, "aoi": TOULOUSE,
                "feasibility_id": answer.json()["id"], "window": window, "mode": mode}

    def close(self) -> None:
        self.http.__exit__(None, None, None)


@pytest.fixture
def make_airbus(tmp_path: Path) -> Iterator[Callable[..., Airbus]]:
    """Simulators on ``tmp_path`` (the same state directory: a second one is the first restarted)."""
    made: list[Airbus] = []

    def make(**overrides: Any) -> Airbus:
        made.append(a := Airbus(tmp_path, **overrides))
        return a

    yield make
    for a in made:
        a.close()


@pytest.fixture
def airbus(make_airbus: Callable[..., Airbus]) -> Airbus:
    return make_airbus()
