"""Vendor the JSON schemas kubeconform validates deploy/k8s against (CI has no internet).

Run by hand when a schema source changes, never by the tests::

    uv run --frozen python deploy/k8s/schemas/vendor.py \
        --kubernetes <kubernetes-validate>/kubernetes-json-schema/v1.33.0-local-strict \
        --crd <crd.yaml> [--crd <crd.yaml> ...]

Kubernetes kinds: the listed ones only, each made standalone (its reachable definitions copied in
under ``$defs``), written as ``kubernetes/<kind><-group>-<version>.json`` (kubeconform's
``{{.ResourceKind}}{{.KindSuffix}}``). CRDs: each served version's ``openAPIV3Schema`` converted the
way kubeconform's ``openapi2jsonschema`` does in strict mode (objects with properties refuse unknown
fields unless ``x-kubernetes-preserve-unknown-fields``; ``int-or-string`` accepts both), written as
``crds/<group>/<kind>_<version>.json`` (``{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}``).
Where each came from is in SOURCES.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent

# the built-in kinds deploy/k8s uses (file names of kubernetes-validate's layout)
KUBERNETES_KINDS = (
    "configmap-v1", "service-v1", "serviceaccount-v1", "secret-v1", "namespace-v1",
    "deployment-apps-v1", "statefulset-apps-v1", "job-batch-v1",
    "poddisruptionbudget-policy-v1", "horizontalpodautoscaler-autoscaling-v2",
    "networkpolicy-networking-v1", "ingress-networking-v1",
)

_REF = re.compile(r"^(?:(?:/api/)?_definitions\.json)?#/\$defs/(.+)$")


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)):
            found.add(m.group(1))
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)):
            out["$ref"] = f"#/$defs/{m.group(1)}"
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def standalone(kind_file: Path, definitions: dict[str, Any]) -> dict[str, Any]:
    schema = json.loads(kind_file.read_text())
    needed: set[str] = set()
    _refs(schema, needed)
    todo = list(needed)
    while todo:
        name = todo.pop()
        more: set[str] = set()
        _refs(definitions[name], more)
        for extra in more - needed:
            needed.add(extra)
            todo.append(extra)
    schema = _rewrite(schema)
    schema["$defs"] = {name: _rewrite(definitions[name]) for name in sorted(needed)}
    return schema


def strict(node: Any) -> Any:
    if isinstance(node, list):
        return [strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "anyOf", "pattern"):
            out.pop(key, None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if out.get("type") == "object" and "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return {k: v for k, v in out.items() if not k.startswith("x-kubernetes-")}


def crd_schemas(crd_file: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in yaml.safe_load_all(crd_file.read_text()):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            if not version.get("served"):
                continue
            schema = strict(version["schema"]["openAPIV3Schema"])
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            props.setdefault("metadata", {"type": "object"})
            out[f"crds/{group}/{kind.lower()}_{version['name']}.json"] = schema
    return out


def terse(node: Any) -> Any:
    """Without prose (``description`` strings): a third of the size, the same validation."""
    if isinstance(node, dict):
        return {k: terse(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [terse(v) for v in node]
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubernetes", type=Path, required=True)
    parser.add_argument("--crd", type=Path, action="append", default=[])
    args = parser.parse_args()
    definitions = json.loads((args.kubernetes / "_definitions.json").read_text())["$defs"]
    written: dict[str, dict[str, Any]] = {}
    for kind in KUBERNETES_KINDS:
        written[f"kubernetes/{kind}.json"] = standalone(args.kubernetes / f"{kind}.json", definitions)
    for crd in args.crd:
        written.update(crd_schemas(crd))
    for rel, schema in sorted(written.items()):
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(terse(schema), indent=1, sort_keys=True) + "\n")
        print(f"{rel}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
