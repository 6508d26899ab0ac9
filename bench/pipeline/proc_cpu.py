"""CPU time of the stack's processes, from the kernel's own counters.

Each process of the stack is a tree: PostgreSQL's backends are children of the postmaster,
Keycloak's JVM is a child of ``kc.sh``. The CPU of a tree is the sum over its live members of
``utime + stime`` (``/proc/<pid>/stat``), plus ``cutime + cstime``: the time of children that
exited and were reaped by a member (a PostgreSQL backend that ends during the phase is counted by
the postmaster that waits for it). A tree is found again at each sample, so members that start
during the phase are counted too.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _read(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks of itself and its reaped children), or ``None`` if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    utime, stime, cutime, cstime = (int(v) for v in rest[11:15])
    return int(rest[1]), utime + stime + cutime + cstime


def processes() -> dict[int, tuple[int, int]]:
    """Every process of the machine: pid → (parent pid, ticks)."""
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (row := _read(int(entry.name))) is not None:
            table[int(entry.name)] = row
    return table


def tree_ms(roots: dict[str, int], table: dict[int, tuple[int, int]] | None = None) -> dict[str, float]:
    """CPU milliseconds used so far by each named process tree (root pid → it and its descendants)."""
    table = processes() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    totals = {}
    for name, root in roots.items():
        if root not in table:
            continue
        ticks, todo = 0, [root]
        while todo:
            pid = todo.pop()
            ticks += table[pid][1]
            todo += children.get(pid, [])
        totals[name] = ticks * TICK_MS
    return totals


def machine_busy_ms() -> float:
    """CPU milliseconds the whole machine spent busy (all cores) since boot, from ``/proc/stat``."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) * TICK_MS


def per_request(before: dict[str, float], after: dict[str, float], completed: int,
                seconds: float) -> dict[str, dict[str, float]]:
    """CPU ms per completed request and share of one core, per process tree that lived through the phase."""
    rows = {}
    for name in after:
        if name in before:
            used = after[name] - before[name]
            rows[name] = {"cpu_ms": round(used, 1),
                          "ms_per_request": round(used / completed, 2) if completed else None,
                          "percent_of_one_core": round(used / (seconds * 10), 1) if seconds else None}
    return rows
