"""The one Containerfile pattern (not built here): what it copies exists, what it runs imports."""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = (ROOT / "Containerfile").read_text()
SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", CONTAINERFILE)
    return [(m.group(1).upper(), m.group(2)) for m in re.finditer(r"^(\w+)\s+(.*)$", joined, re.M)
            if not m.group(0).startswith("#")]


def test_every_path_it_copies_exists() -> None:
    copies = [args.split() for op, args in _instructions() if op == "COPY" and "--from=" not in args]
    assert copies, "no COPY"
    for parts in copies:
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
    copied = {s.rstrip("/") for parts in copies for s in parts[:-1]}
    assert {"pyproject.toml", "uv.lock", "libs", "services", "tools"} <= copied  # the whole uv workspace


def test_it_syncs_the_lock_without_dev_tools_and_runs_unprivileged() -> None:
    runs = " ".join(args for op, args in _instructions() if op == "RUN")
    assert "uv sync --frozen --no-dev" in runs and '--package "${SERVICE}-service"' in runs
    assert len([op for op, _ in _instructions() if op == "FROM"]) == 2  # build stage, runtime stage
    (user,) = [args for op, args in _instructions() if op == "USER"]
    assert user.split(":")[0] not in ("0", "root") and int(user.split(":")[0]) >= 1000
    (cmd,) = [args for op, args in _instructions() if op == "CMD"]
    assert '-m \\"${DINAMIS_SERVICE}_service\\"' in cmd


def test_every_service_it_can_build_is_a_workspace_package_whose_entrypoint_imports() -> None:
    for service in SERVICES:
        project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
        assert project["name"] == f"{service}-service"  # what --package "${SERVICE}-service" names
        module = f"{service}_service"
        assert f"{module}," in CONTAINERFILE or f"{module}\n" in CONTAINERFILE, f"{module} not named"
        assert importlib.util.find_spec(f"{module}.__main__") is not None, f"python -m {module}: no __main__"
        # __main__ starts the server; what it imports must import (the settings and the composition root)
        importlib.import_module("dinamis_common.runtime")
        importlib.import_module(f"{module}.settings")
        importlib.import_module(f"{module}.bootstrap")
