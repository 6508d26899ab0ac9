"""deploy/k8s validated offline: kustomize builds every overlay, kubeconform checks the output against the
schemas vendored in deploy/k8s/schemas (no network), and the policies are asserted on what was built.

kustomize and kubeconform come from scripts/install/k8s-tools.sh (run by `make install`, so by `make test`);
without them these tests fail saying how to get them, never skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")


def tool(name: str) -> str:
    cache = Path(os.environ.get("DINAMIS_CACHE", Path.home() / ".cache" / "dinamis"))
    path = cache / "k8s-tools" / "bin" / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `bash scripts/install/k8s-tools.sh` (make install does)")
    return found


def build(overlay: str) -> str:
    done = subprocess.run([tool("kustomize"), "build", str(K8S / "overlays" / overlay)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"kustomize build overlays/{overlay} failed:\n{done.stderr}"
    return done.stdout


_BUILT: dict[str, str] = {}


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def built(overlay: str) -> str:
    if overlay not in _BUILT:
        _BUILT[overlay] = build(overlay)
    return _BUILT[overlay]


@pytest.fixture(scope="session")
def resources(built: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(built) if doc]


@pytest.fixture(scope="session")
def kubeconform() -> str:
    return tool("kubeconform")
