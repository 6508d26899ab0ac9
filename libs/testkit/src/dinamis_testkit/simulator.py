"""The Airbus simulator as a process of a test's own (``python -m airbus_simulator`` on a free port,
its state in ``state_dir``), fast by default: each lifecycle step one second."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from dinamis_testkit.inprocess import free_port
from dinamis_testkit.polling import until_answers

FAST = {"received_seconds": 1, "production_seconds": 1, "attempt_seconds": 1, "log_level": "warning"}


async def start_simulator(state_dir: Path, api_key: str, **settings: Any) -> tuple[asyncio.subprocess.Process, str]:
    """The running simulator and its URL. ``settings`` are its own (``AIRBUS_SIM_<NAME>``; lists and
    maps as JSON), over :data:`FAST`."""
    port = free_port()
    values = {**FAST, **settings, "host": "127.0.0.1", "port": port, "state_dir": str(state_dir),
              "api_keys": [api_key]}
    env = {**os.environ, **{f"AIRBUS_SIM_{k.upper()}": v if isinstance(v, str) else json.dumps(v)
                            for k, v in values.items()}}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "airbus_simulator", env=env)
    url = f"http://127.0.0.1:{port}"

    await until_answers(f"{url}/_simulator/orders", proc)
    return proc, url
