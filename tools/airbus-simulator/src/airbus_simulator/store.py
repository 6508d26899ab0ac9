"""What the simulator remembers, in memory and in ``<state_dir>/orders.json`` (written whole, atomically, at
every change), so that a restart keeps its orders, feasibility answers and log of ordering calls."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from airbus_simulator.orders import Order

MAX_CALLS_KEPT = 10_000


class Store:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "orders.json"
        self.orders: dict[str, Order] = {}
        self.feasibilities: dict[str, dict[str, Any]] = {}
        self.ordering_calls: list[str] = []

    def load(self) -> Store:
        if self.path.exists():
            doc = json.loads(self.path.read_text())
            self.orders = {o["id"]: Order.from_json(o) for o in doc.get("orders", [])}
            self.feasibilities = doc.get("feasibilities", {})
            self.ordering_calls = doc.get("ordering_calls", [])
        return self

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        del self.ordering_calls[:-MAX_CALLS_KEPT]
        doc = {"orders": [o.to_json() for o in self.orders.values()], "feasibilities": self.feasibilities,
               "ordering_calls": self.ordering_calls}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".orders-")
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.path)
