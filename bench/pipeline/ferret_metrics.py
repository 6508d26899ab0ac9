"""FerretDB's own command counters, read before and after a phase.

FerretDB 1.24's debug listener (``--debug-addr``, started by the stack on the profile's
``ferretdb_debug`` port) exposes Prometheus metrics at ``/debug/metrics``:

* ``ferretdb_client_requests_total{command, opcode}``: commands received;
* ``ferretdb_client_responses_total{command, opcode, argument, result}``: answers, ``result`` other than
  ``ok`` is a failure;
* ``ferretdb_cursors_created_total{db, collection, type, username}``: queries that opened a cursor
  (``find``/``aggregate``), which says which collections are read.

A FerretDB started without the listener (an older stack, an external server) still answers
``serverStatus`` with ``metrics.commands.<name>.{total, failed}`` from the same counters; that is
the fallback (no cursor counts then, and the benchmark's own two ``serverStatus`` are left out).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pymongo import MongoClient

_SAMPLE = re.compile(r"^(\w+)\{(.*)\}\s+(\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metrics_url(debug_port: int) -> str:
    return f"http://127.0.0.1:{debug_port}/debug/metrics"


def prometheus(text: str) -> dict[str, dict[str, float]]:
    """The counters this benchmark reads, from one scrape of ``/debug/metrics``."""
    out: dict[str, dict[str, float]] = {"commands": {}, "failed": {}, "cursors": {}}
    for line in text.splitlines():
        if not (m := _SAMPLE.match(line)):
            continue
        name, labels, value = m.group(1), dict(_LABEL.findall(m.group(2))), float(m.group(3))
        if name == "ferretdb_client_requests_total":
            key, table = labels.get("command", "?"), out["commands"]
        elif name == "ferretdb_client_responses_total" and labels.get("result") != "ok":
            key, table = labels.get("command", "?"), out["failed"]
        elif name == "ferretdb_cursors_created_total":
            key, table = f"{labels.get('db')}.{labels.get('collection')}", out["cursors"]
        else:
            continue
        table[key] = table.get(key, 0.0) + value
    return out


def snapshot(debug_port: int, mongodb_uri: str) -> dict[str, Any]:
    """The counters now, from the debug listener if it answers, else from ``serverStatus``."""
    try:
        r = httpx.get(metrics_url(debug_port), timeout=3)
        r.raise_for_status()
        return {"source": "prometheus /debug/metrics", **prometheus(r.text)}
    except httpx.HTTPError:
        pass
    with MongoClient(mongodb_uri, serverSelectionTimeoutMS=3000) as client:
        status = client.admin.command("serverStatus")
    commands = status.get("metrics", {}).get("commands", {})
    return {"source": "serverStatus metrics.commands (no debug listener)",
            "commands": {k: float(v.get("total", 0)) for k, v in commands.items()},
            "failed": {k: float(v.get("failed", 0)) for k, v in commands.items() if v.get("failed")},
            "cursors": {}}


def per_request(before: dict[str, Any], after: dict[str, Any], completed: int) -> dict[str, Any]:
    """Commands (and failures, and cursors by collection) per completed request, over the phase."""
    def delta(table: str) -> dict[str, float]:
        d = {k: v - before[table].get(k, 0.0) for k, v in after[table].items()}
        if after["source"].startswith("serverStatus"):
            d.pop("serverStatus", None)  # the benchmark's own reads of these counters
        return dict(sorted(((k, v) for k, v in d.items() if v > 0), key=lambda kv: -kv[1]))

    commands, failed, cursors = delta("commands"), delta("failed"), delta("cursors")
    total = sum(commands.values())

    def rate(v: float) -> float:
        return round(v / completed, 2) if completed else 0.0

    return {
        "source": after["source"], "requests_completed": completed,
        "commands": int(total), "per_request": rate(total),
        "by_command": {k: {"count": int(v), "per_request": rate(v)} for k, v in commands.items()},
        "failed_by_command": {k: int(v) for k, v in failed.items()},
        "cursors_by_collection": {k: {"count": int(v), "per_request": rate(v)} for k, v in cursors.items()},
    }
