"""What is measured around the saturated phase: each process's CPU, FerretDB's command counters
and, with ``--profile-services``, sampling profiles of the services and of FerretDB.

``begin()`` runs right before the first submission, ``end()`` right after the last request reached
``ordered`` (or the wait gave up): counters are read at those two instants, the profilers run between.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import ferret_metrics
import proc_cpu
import profilers

PROFILES = Path(__file__).resolve().parent / "profiles"


class Probe:
    def __init__(self, pids: dict[str, int], mongodb_uri: str, ferretdb_debug_port: int,
                 profile_services: list[str] | None, rate: int) -> None:
        self.pids, self.mongodb_uri, self.debug_port = pids, mongodb_uri, ferretdb_debug_port
        self.profile_services, self.rate = profile_services, rate
        self.spies: list[profilers.PySpy] = []
        self.ferretdb: profilers.GoPprof | profilers.Perf | None = None
        self.started = self.ended = 0.0

    async def begin(self) -> None:
        if self.profile_services is not None:
            PROFILES.mkdir(exist_ok=True)
            self.spies = [profilers.PySpy(name, self.pids[name], PROFILES, self.rate)
                          for name in self.profile_services if name in self.pids]
            for spy in self.spies:
                spy.start()
            listening = await asyncio.to_thread(profilers.debug_listening, self.debug_port)
            self.ferretdb = profilers.ferretdb_profiler(listening, self.debug_port, self.pids.get("ferretdb"),
                                                        PROFILES)
            if self.ferretdb is not None:
                await self.ferretdb.start()
            await asyncio.sleep(1.0)  # py-spy attaches
        self.counters_before = await asyncio.to_thread(ferret_metrics.snapshot, self.debug_port, self.mongodb_uri)
        self.cpu_before = self._cpu()
        self.started = time.perf_counter()

    async def end(self) -> None:
        self.ended = time.perf_counter()
        self.cpu_after = self._cpu()
        self.counters_after = await asyncio.to_thread(ferret_metrics.snapshot, self.debug_port, self.mongodb_uri)
        for spy in self.spies:
            await asyncio.to_thread(spy.stop)
        if self.ferretdb is not None:
            await self.ferretdb.stop()

    def _cpu(self) -> dict[str, float]:
        table = proc_cpu.processes()
        sample = {**proc_cpu.tree_ms(self.pids, table), "(machine)": proc_cpu.machine_busy_ms()}
        if (own := table.get(os.getpid())) is not None:  # the load generator alone, not its profilers
            sample["(bench client)"] = own[1] * proc_cpu.TICK_MS
        if self.spies:
            sample["(py-spy)"] = sum(table[s.proc.pid][1] for s in self.spies
                                     if s.proc and s.proc.pid in table) * proc_cpu.TICK_MS
        return sample

    def figures(self, completed: int) -> dict[str, Any]:
        seconds = self.ended - self.started
        cpu = proc_cpu.per_request(self.cpu_before, self.cpu_after, completed, seconds)
        stack = {k: v for k, v in cpu.items() if not k.startswith("(")}
        stack_ms = sum(v["cpu_ms"] for v in stack.values())
        cpu["(stack total)"] = {"cpu_ms": round(stack_ms, 1),
                                "ms_per_request": round(stack_ms / completed, 2) if completed else None,
                                "percent_of_one_core": round(stack_ms / (seconds * 10), 1) if seconds else None}
        out: dict[str, Any] = {
            "phase_s": round(seconds, 2), "requests_completed": completed,
            "cpu_per_process": dict(sorted(cpu.items(), key=lambda kv: -(kv[1]["cpu_ms"]))),
            "ferretdb_commands": ferret_metrics.per_request(self.counters_before, self.counters_after, completed),
        }
        if self.profile_services is not None:
            out["profiles"] = self._profiles()
        return out

    def _profiles(self) -> dict[str, Any]:
        result: dict[str, Any] = {"dir": str(PROFILES), "services": {}}
        for spy in self.spies:
            summary = spy.summary()
            spy.write(summary, PROFILES / f"{spy.name}.top.txt")
            result["services"][spy.name] = summary
        if self.ferretdb is not None:
            result["ferretdb"] = self.ferretdb.summary(PROFILES / "ferretdb.top.txt")
        return result
