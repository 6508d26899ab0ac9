"""The vendored schemas: each set named in SOURCES.md with a package registry as its source, each file
standalone (kubeconform reads one file per kind, offline) and strict where the manifests are checked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "schemas"
REGISTRIES = ("PyPI ", "npm ", "Go module ")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(_objects(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_objects(value, f"{path}/{i}"))
    return found


def test_every_schema_set_comes_from_a_package_registry() -> None:
    sources = (SCHEMAS / "SOURCES.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(crds/[^`]+/|kubernetes/\*\.json)`[^|]*\| ([^|]+)\|",
                                                        sources, re.M)}
    groups = {f"crds/{d.name}/" for d in (SCHEMAS / "crds").iterdir() if d.is_dir()}
    assert groups | {"kubernetes/*.json"} == set(rows), "a schema set without its source in SOURCES.md, or the reverse"
    for files, source in rows.items():
        assert source.startswith(REGISTRIES), f"{files}: {source}"
        assert not re.search(r" at [0-9a-f]{7,}|branch ", source), f"{files}: a repository's commit, not a release"
    assert not {"crds/k8s.keycloak.org/", "crds/seaweed.seaweedfs.com/"} & groups


def test_every_schema_is_standalone() -> None:
    files = sorted(SCHEMAS.rglob("*.json"))
    assert len(files) > 15
    for file in files:
        schema = json.loads(file.read_text())
        for ref in _refs(schema):
            assert ref.startswith("#/$defs/"), f"{file.name}: {ref}"
            assert ref.removeprefix("#/$defs/") in schema.get("$defs", {}), f"{file.name}: {ref} not inside"


def test_strimzi_schemas_refuse_unknown_fields_and_know_what_the_manifests_use() -> None:
    for kind in ("kafka", "kafkanodepool", "kafkatopic", "kafkauser"):
        schema = json.loads((SCHEMAS / "crds" / "kafka.strimzi.io" / f"{kind}_v1.json").read_text())
        assert schema["properties"]["apiVersion"]["enum"] == ["kafka.strimzi.io/v1"]
        objects = _objects(schema)
        assert len(objects) >= 2, kind  # the resource and its spec at least
        for path, node in objects:
            assert node.get("additionalProperties") is False, f"{kind}{path} accepts unknown fields"
    user = json.loads((SCHEMAS / "crds" / "kafka.strimzi.io" / "kafkauser_v1.json").read_text())
    acl = user["properties"]["spec"]["properties"]["authorization"]["properties"]["acls"]["items"]
    assert "IdempotentWrite" in acl["properties"]["operations"]["items"]["enum"]
    assert acl["properties"]["resource"]["properties"]["patternType"]["enum"] == ["literal", "prefix"]
    pool = json.loads((SCHEMAS / "crds" / "kafka.strimzi.io" / "kafkanodepool_v1.json").read_text())
    limits = pool["properties"]["spec"]["properties"]["resources"]["properties"]["limits"]["additionalProperties"]
    assert {b["type"] for b in limits["anyOf"]} == {"integer", "string"}  # int-or-string: "2" and 2 both
