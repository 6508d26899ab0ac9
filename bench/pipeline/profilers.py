"""Sampling profiles of the running stack during a phase, with no change in its code.

* Each service (a Python process): ``py-spy record`` (raw collapsed stacks, idle threads left out, so the
  samples are where the process spent CPU), summarised as the top functions by own time and by own +
  child time.
* FerretDB (Go): its pprof CPU profile from the debug listener,
  ``/debug/pprof/profile?seconds=N`` taken in consecutive chunks for as long as the phase lasts, then
  merged and summarised by ``go tool pprof -top``. Without the listener (a FerretDB started before
  the stack enabled it), ``perf record -g`` on its pid instead, summarised by ``perf report``.

Everything is written under ``bench/pipeline/profiles/`` (not versioned).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

PPROF_CHUNK_S = 5
MAX_PROFILE_S = 1800  # py-spy stops by itself even if the benchmark dies before stopping it
_PROJECT = re.compile(r"\((\w+_service|dinamis_\w+)/")  # a frame of the project's own code: "fn (pkg/mod.py)"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy not found: it is in the dev dependency group (uv sync --frozen)")
    return found


class PySpy:
    """``py-spy record`` on one process, from :meth:`start` until :meth:`stop`."""

    def __init__(self, name: str, pid: int, out_dir: Path, rate: int) -> None:
        self.name, self.pid, self.rate = name, pid, rate
        self.raw = out_dir / f"{name}.collapsed.txt"
        self.log = out_dir / f"{name}.py-spy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.raw.unlink(missing_ok=True)
        with open(self.log, "wb") as log:
            # --nonblocking: the service is not paused for each sample, so the profile perturbs the
            # figures measured at the same time as little as it can
            self.proc = subprocess.Popen(
                [py_spy(), "record", "--pid", str(self.pid), "--format", "raw", "--nolineno", "--nonblocking",
                 "--rate", str(self.rate), "--duration", str(MAX_PROFILE_S), "--output", str(self.raw)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def summary(self, top: int = 15) -> dict:
        if not self.raw.exists():
            return {"error": f"py-spy wrote nothing, see {self.log}: {self.log.read_text()[-300:]}"}
        own, total, samples = Counter(), Counter(), 0
        for line in self.raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n, frames = int(count), stack.split(";")
            samples += n
            own[frames[-1]] += n
            for frame in set(frames):  # recursion counts once per sample
                total[frame] += n

        def rows(counter: Counter) -> list[dict]:
            return [{"function": f, "own_pct": round(100 * own[f] / samples, 1),
                     "total_pct": round(100 * total[f] / samples, 1)} for f, _ in counter.most_common(top)]

        ours = Counter({f: n for f, n in total.items() if _PROJECT.search(f)})
        return {"samples": samples, "by_own": rows(own), "by_total": rows(total), "by_total_project": rows(ours)}

    def write(self, summary: dict, out: Path) -> None:
        lines = [f"py-spy record --rate {self.rate} --nonblocking, idle threads left out: {self.name} (pid {self.pid})"]
        if "error" in summary:
            lines.append(summary["error"])
        else:
            lines.append(f"{summary['samples']} samples where a thread was running; % of those samples")
            for key, title in (("by_own", "own time"), ("by_total", "own + child time"),
                               ("by_total_project", "own + child time, the project's own functions")):
                lines += ["", f"top {len(summary[key])} by {title}:", f"{'own %':>7} {'total %':>8}  function"]
                lines += [f"{r['own_pct']:>7} {r['total_pct']:>8}  {r['function']}" for r in summary[key]]
        out.write_text("\n".join(lines) + "\n")


class GoPprof:
    """FerretDB's CPU profile, fetched in consecutive chunks from :meth:`start` until :meth:`stop`."""

    def __init__(self, debug_port: int, out_dir: Path) -> None:
        self.url = f"http://127.0.0.1:{debug_port}/debug/pprof/profile"
        self.out_dir = out_dir
        self.files: list[Path] = []
        self.running = False
        self.task: asyncio.Task | None = None
        self.error: str | None = None

    async def start(self) -> None:
        for old in self.out_dir.glob("ferretdb-cpu-*.pb.gz"):
            old.unlink()
        self.running = True
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        async with httpx.AsyncClient(timeout=PPROF_CHUNK_S + 30) as client:
            while self.running:
                try:
                    r = await client.get(self.url, params={"seconds": PPROF_CHUNK_S})
                    r.raise_for_status()
                except httpx.HTTPError as e:
                    self.error = f"{type(e).__name__}: {e}"
                    return
                path = self.out_dir / f"ferretdb-cpu-{len(self.files):03d}.pb.gz"
                path.write_bytes(r.content)
                self.files.append(path)

    async def stop(self) -> None:
        self.running = False
        if self.task is not None:
            await self.task  # the chunk under way ends within PPROF_CHUNK_S, with the load over

    def summary(self, out: Path, top: int = 15) -> dict:
        if not self.files:
            return {"error": self.error or "no profile fetched"}
        flat = _go_pprof_top(self.files, cum=False, nodes=top * 2)
        cum = _go_pprof_top(self.files, cum=True, nodes=top * 2)
        out.write_text(f"go tool pprof -top (flat), {len(self.files)} merged profiles of {PPROF_CHUNK_S} s\n\n"
                       f"{flat}\n\ngo tool pprof -top -cum\n\n{cum}\n")
        return {"profiles": len(self.files), "by_flat": _pprof_rows(flat)[:top], "by_cum": _pprof_rows(cum)[:top]}


def _go_pprof_top(files: list[Path], cum: bool, nodes: int) -> str:
    argv = ["go", "tool", "pprof", "-top", f"-nodecount={nodes}", *(["-cum"] if cum else []), *map(str, files)]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout


_PPROF_ROW = re.compile(r"^\s*([\d.]+\w*)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+\w*)\s+([\d.]+)%\s+(.+)$")


def _pprof_rows(text: str) -> list[dict]:
    return [{"function": m.group(6), "flat": m.group(1), "flat_pct": float(m.group(2)),
             "cum": m.group(4), "cum_pct": float(m.group(5))}
            for line in text.splitlines() if (m := _PPROF_ROW.match(line))]


class Perf:
    """``perf record -g`` on a process: FerretDB's profile when its debug listener is off."""

    def __init__(self, pid: int, out_dir: Path) -> None:
        self.pid = pid
        self.data = out_dir / "ferretdb.perf.data"
        self.log = out_dir / "ferretdb.perf.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)

    def _start(self) -> None:
        if shutil.which("perf") is None:
            return
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["perf", "record", "-F", "199", "-g", "-p", str(self.pid),
                                          "-o", str(self.data), "--", "sleep", str(MAX_PROFILE_S)],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def _stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def summary(self, out: Path, top: int = 15) -> dict:
        if self.proc is None or not self.data.exists():
            return {"error": "no debug listener and no perf: no FerretDB profile"}
        reports = {}
        for key, flag in (("by_flat", "--no-children"), ("by_cum", "--children")):
            argv = ["perf", "report", "-i", str(self.data), "--stdio", flag, "--sort", "symbol", "-g", "none",
                    "--percent-limit", "0.5"]
            reports[key] = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout
        out.write_text("FerretDB without its debug listener: perf record -g, perf report --sort symbol\n\n"
                       f"self:\n{reports['by_flat']}\n\nchildren:\n{reports['by_cum']}\n")
        return {"tool": "perf", **{k: _perf_rows(v, k == "by_cum")[:top] for k, v in reports.items()}}


_PERF_ROW = re.compile(r"^\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[[.k]\]\s+(.+?)(?:\s+-\s+-)?\s*$")  # IPC columns: "-  -"


def _perf_rows(text: str, children: bool) -> list[dict]:
    rows = []
    for line in text.splitlines():
        if m := _PERF_ROW.match(line):
            if children:
                rows.append({"function": m.group(3), "cum_pct": float(m.group(1)),
                             "flat_pct": float(m.group(2) or 0)})
            else:
                rows.append({"function": m.group(3), "flat_pct": float(m.group(1))})
    return rows


def ferretdb_profiler(debug_listening: bool, debug_port: int, pid: int | None, out_dir: Path) -> GoPprof | Perf | None:
    if debug_listening:
        return GoPprof(debug_port, out_dir)
    return Perf(pid, out_dir) if pid else None


def debug_listening(debug_port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{debug_port}/debug/metrics", timeout=2).status_code == 200
    return False
