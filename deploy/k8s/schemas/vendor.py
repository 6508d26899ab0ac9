"""Vendor the JSON schemas kubeconform validates deploy/k8s against (CI has no internet). Every source is a
package from a registry (SOURCES.md), never a fetched repository.

Run by hand when a schema source changes, never by the tests::

    pip download kubernetes-validate==1.37.0 --no-deps  # unpack it: <kubernetes-validate>
    npm install @kubernetes-models/strimzi-kafka-operator@1.0.1  # in <dir>: <dir>/node_modules
    uv run --frozen python deploy/k8s/schemas/vendor.py \
        --kubernetes <kubernetes-validate>/kubernetes-json-schema/v1.33.0-local-strict \
        --strimzi <dir>/node_modules \
        --crd <crd.yaml> [--crd <crd.yaml> ...]

Each option may be given alone (only those files are written).

Kubernetes kinds: the listed ones only, each made standalone (its reachable definitions copied in
under ``$defs``), written as ``kubernetes/<kind><-group>-<version>.json`` (kubeconform's
``{{.ResourceKind}}{{.KindSuffix}}``). CRDs: each served version's ``openAPIV3Schema`` converted the
way kubeconform's ``openapi2jsonschema`` does in strict mode (objects with properties refuse unknown
fields unless ``x-kubernetes-preserve-unknown-fields``; ``int-or-string`` accepts both), written as
``crds/<group>/<kind>_<version>.json`` (``{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}``).

Strimzi: the npm package ships no CRD YAML nor JSON schema, only the validators compiled from them (ajv
standalone code, ``_schemas/KafkaStrimziIoV1<Kind>.js``). node recovers each kind's ``spec`` schema from what
its validator checks (``_PROBE_JS``): a Proxy as ``spec`` records every property the validator reads, at every
depth (arrays and maps probed with one item, until no new array shows), and the errors of probes with an
empty object, an empty and a long string, a huge negative and positive number give each node's type,
``required``, ``enum``, ``pattern``, bounds; an ``anyOf`` of types (int-or-string) and a ``oneOf`` of one
required property per branch (``value`` or ``valueFrom``) are rebuilt, anything else stops the run. The
result is standalone (no ``$ref``; ``metadata`` is an object, as for the CRDs) and made strict the same way
(the package's validators do not refuse unknown fields; these schemas do).
Where each came from is in SOURCES.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
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


STRIMZI_PACKAGE = "@kubernetes-models/strimzi-kafka-operator"
STRIMZI_GROUP, STRIMZI_VERSION = "kafka.strimzi.io", "v1"
STRIMZI_KINDS = ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser")

_PROBE_JS = """// Recover the JSON schema of `spec` from a compiled (ajv standalone) validator, by what it checks.
const [file, apiVersion, kind] = process.argv.slice(2);
const { validate } = await import(file);

const MAP_KEY = "__map_probe__";
const key = (segs) => JSON.stringify(segs);
const concrete = (segs) => segs.map((s) => (s === "[]" ? "0" : s === "{}" ? MAP_KEY : s));
const pointer = (segs) => "/spec" + concrete(segs).map((s) => "/" + s).join("");

const nodes = new Map(); // key(segs) -> {segs, props:Set, iterated, array, errors:[]}
function node(segs) {
  const k = key(segs);
  if (!nodes.has(k)) nodes.set(k, { segs, props: new Set(), iterated: false, array: false, errors: [] });
  return nodes.get(k);
}

function run(spec) {
  validate({ apiVersion, kind, metadata: { name: "probe" }, spec });
  return validate.errors || [];
}

function proxyAt(segs) {
  const n = node(segs);
  if (n.array) {
    const target = [];
    return new Proxy(target, {
      get(t, k) {
        if (k === "length") return 1;
        if (k === "0") return proxyAt([...segs, "[]"]);
        return Reflect.get(t, k);
      },
    });
  }
  return new Proxy({}, {
    get(t, k) {
      if (typeof k !== "string") return undefined;
      if (k === MAP_KEY) return proxyAt([...segs, "{}"]);
      if (k === "toJSON" || k === "then" || k === "constructor") return undefined;
      n.props.add(k);
      return proxyAt([...segs, k]);
    },
    has(t, k) {
      return k === MAP_KEY || (typeof k === "string" && n.props.has(k));
    },
    ownKeys() {
      n.iterated = true;
      return [MAP_KEY];
    },
    getOwnPropertyDescriptor(t, k) {
      if (k !== MAP_KEY) return undefined;
      return { value: proxyAt([...segs, "{}"]), enumerable: true, configurable: true, writable: true };
      return undefined;
    },
  });
}

// errors by instance path, for the probe that put `value` at segs
function build(segs, value) {
  let v = value;
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i];
    v = s === "[]" ? [v] : s === "{}" ? { [MAP_KEY]: v } : { [s]: v };
  }
  return v;
}
function probe(segs, value) {
  const at = pointer(segs);
  return run(build(segs, value)).filter((e) => e.instancePath === at);
}

// 1. discovery: proxies everywhere, until no new array is found
const byPath = new Map();
for (let pass = 0; pass < 50; pass++) {
  for (const n of nodes.values()) n.errors = [];
  const errors = run(proxyAt([]));
  let grew = false;
  byPath.clear();
  for (const n of nodes.values()) byPath.set(pointer(n.segs), n);
  for (const e of errors) {
    const n = byPath.get(e.instancePath);
    if (!n) continue;
    n.errors.push(e);
    if (e.keyword === "type" && e.params.type === "array" && !n.array) {
      n.array = true;
      grew = true;
    }
  }
  if (!grew) break;
}

// 2. what each node is
function typeOf(n) {
  const t = n.errors.find((e) => e.keyword === "type" && e.schemaPath === "#/type");
  return t ? t.params.type : null;
}
function schemaOf(segs) {
  const n = node(segs);
  const out = {};
  // anyOf of types (int-or-string): the type errors of its branches come right before it
  const any = n.errors.findIndex((e) => e.keyword === "anyOf");
  if (any >= 0) {
    const branches = [];
    for (let i = any - 1; i >= 0 && n.errors[i].keyword === "type"; i--) branches.unshift(n.errors[i]);
    if (!branches.length) throw new Error(`${pointer(segs)}: an anyOf that is not of types`);
    n.errors = n.errors.filter((e) => !branches.includes(e) && e.keyword !== "anyOf");
    out.anyOf = branches.map((e) => ({ type: e.params.type }));
    if (typeOf(n) || n.props.size) throw new Error(`${pointer(segs)}: anyOf beside a type`);
    return out;
  }
  // oneOf of required properties (one of value/valueFrom): every branch passes with proxies
  const one = n.errors.find((e) => e.keyword === "oneOf");
  const branchCount = one ? (one.params.passingSchemas || []).length : 0;
  if (one && !branchCount) throw new Error(`${pointer(segs)}: a oneOf no proxy passes`);
  let type = typeOf(n);
  if (n.array) type = "array";
  if (!type) {
    // passed as an object: an object, or untyped
    if (n.props.size || n.iterated) type = "object";
    else {
      const t = probe(segs, 12345.5).concat(probe(segs, "s"))
        .find((e) => e.keyword === "type" && e.schemaPath === "#/type");
      type = t ? t.params.type : null;
      if (t && t.params.type !== "object") throw new Error(`${pointer(segs)}: ${t.params.type} unseen at discovery`);
    }
  }
  if (type) out.type = type;
  const enums = n.errors.find((e) => e.keyword === "enum");
  if (enums) out.enum = enums.params.allowedValues;
  if (type === "object") {
    if (n.props.size) {
      out.properties = {};
      for (const p of [...n.props].sort()) out.properties[p] = schemaOf([...segs, p]);
      const errors = probe(segs, {});
      let own = errors.filter((e) => e.keyword === "required");
      if (branchCount) {
        const at = errors.findIndex((e) => e.keyword === "oneOf");
        const branches = errors.slice(at - branchCount, at);
        if (at < branchCount || !branches.every((e) => e.keyword === "required")) {
          throw new Error(`${pointer(segs)}: a oneOf whose branches are not one required property each`);
        }
        out.oneOf = branches.map((e) => ({ required: [e.params.missingProperty] }));
        own = own.filter((e) => !branches.includes(e));
      }
      if (own.length) out.required = [...new Set(own.map((e) => e.params.missingProperty))].sort();
    }
    if (n.iterated) {
      const extra = n.errors.find((e) => e.keyword === "additionalProperties");
      if (extra) out.additionalProperties = false;
      else if (nodes.has(key([...segs, "{}"]))) out.additionalProperties = schemaOf([...segs, "{}"]);
    }
  } else if (type === "array") {
    if (nodes.has(key([...segs, "[]"]))) out.items = schemaOf([...segs, "[]"]);
    for (const e of probe(segs, [])) if (e.keyword === "minItems") out.minItems = e.params.limit;
  } else if (type === "string") {
    for (const e of probe(segs, "").concat(probe(segs, "~".repeat(70000)))) {
      if (e.keyword === "pattern") out.pattern = e.params.pattern;
      if (e.keyword === "minLength") out.minLength = e.params.limit;
      if (e.keyword === "maxLength") out.maxLength = e.params.limit;
      if (e.keyword === "format") out.format = e.params.format;
    }
  } else if (type === "integer" || type === "number") {
    for (const e of probe(segs, -1e15).concat(probe(segs, 1e15))) {
      if (e.keyword === "minimum") out.minimum = e.params.limit;
      if (e.keyword === "maximum") out.maximum = e.params.limit;
      if (e.keyword === "exclusiveMinimum") out.exclusiveMinimum = e.params.limit;
      if (e.keyword === "exclusiveMaximum") out.exclusiveMaximum = e.params.limit;
    }
  }
  return out;
}
const spec = schemaOf([]);
validate({});
const required = (validate.errors || []).filter((e) => e.instancePath === "" && e.keyword === "required")
  .map((e) => e.params.missingProperty).sort();
process.stdout.write(JSON.stringify({ spec, required }));
"""


def strimzi_schemas(node_modules: Path) -> dict[str, dict[str, Any]]:
    """Each Strimzi kind's schema, recovered with node from the package's compiled validator."""
    package = node_modules / STRIMZI_PACKAGE
    out: dict[str, dict[str, Any]] = {}
    for kind in STRIMZI_KINDS:
        api_version = f"{STRIMZI_GROUP}/{STRIMZI_VERSION}"
        validator = package / "_schemas" / f"KafkaStrimziIo{STRIMZI_VERSION.capitalize()}{kind}.js"
        done = subprocess.run(["node", "--input-type=module", "-", str(validator), api_version, kind],
                              input=_PROBE_JS, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{validator}: {done.stderr}")
        probed = json.loads(done.stdout)
        schema = strict({"type": "object", "required": probed["required"], "properties": {
            "apiVersion": {"type": "string", "enum": [api_version]},
            "kind": {"type": "string", "enum": [kind]},
            "metadata": {"type": "object"},
            "spec": probed["spec"],
            "status": {"type": "object"},
        }})
        out[f"crds/{STRIMZI_GROUP}/{kind.lower()}_{STRIMZI_VERSION}.json"] = schema
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
    parser.add_argument("--kubernetes", type=Path, help="kubernetes-validate's v1.33.0-local-strict folder")
    parser.add_argument("--strimzi", type=Path, help=f"a node_modules holding {STRIMZI_PACKAGE}")
    parser.add_argument("--crd", type=Path, action="append", default=[])
    args = parser.parse_args()
    written: dict[str, dict[str, Any]] = {}
    if args.kubernetes:
        definitions = json.loads((args.kubernetes / "_definitions.json").read_text())["$defs"]
        for kind in KUBERNETES_KINDS:
            written[f"kubernetes/{kind}.json"] = standalone(args.kubernetes / f"{kind}.json", definitions)
    if args.strimzi:
        written.update(strimzi_schemas(args.strimzi))
    for crd in args.crd:
        written.update(crd_schemas(crd))
    for rel, schema in sorted(written.items()):
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(terse(schema), indent=1, sort_keys=True) + "\n")
        print(f"{rel}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
