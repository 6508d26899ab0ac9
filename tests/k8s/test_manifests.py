"""Every overlay builds, validates against the vendored schemas only, and keeps the platform's policies:
topics and ACLs from the topic table, hardened and probed pods, no secret value, network policies."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from dinamis_contracts.topics import STREAMS, TOPICS, service_of

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "deploy" / "k8s" / "schemas"
SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")
Doc = dict[str, Any]


def kinds(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in kinds(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


# Kinds kubeconform cannot check: no package registry serves the Keycloak operator's CRDs (not on Maven
# Central, npm or PyPI; its Go module is refused by the proxy), and vendored schemas come from registries only
# (deploy/k8s/schemas/SOURCES.md). test_keycloak_resources_keep_their_shape checks them instead.
UNCHECKED_KINDS = ("Keycloak", "KeycloakRealmImport")


def conform(kubeconform: str, manifests: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [kubeconform, "-strict", "-summary", "-verbose", "-output", "json", "-skip", ",".join(UNCHECKED_KINDS),
         "-schema-location", str(SCHEMAS / "kubernetes") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "-schema-location", str(SCHEMAS / "crds") + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
         "-"], input=manifests, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout), done.stderr


def test_output_is_valid_against_the_vendored_schemas_only(built: str, resources: list[Doc], kubeconform: str,
                                                          overlay: str) -> None:
    code, report, stderr = conform(kubeconform, built)
    problems = [f"{r['kind']} {r['name']}: {r['msg']}" for r in report["resources"]
                if r["status"] not in ("statusValid", "statusSkipped")]
    assert code == 0 and not problems, "\n".join(problems) or stderr
    skipped = {(r["kind"], r["name"]) for r in report["resources"] if r["status"] == "statusSkipped"}
    assert skipped == {("Keycloak", "keycloak"), ("KeycloakRealmImport", "dinamis")}
    summary = report["summary"]
    assert summary["skipped"] == 2 and summary["valid"] == len(resources) - 2, summary
    assert summary["valid"] > 60, f"overlays/{overlay}: {summary}"


def test_output_is_refused_when_a_field_is_wrong(built: str, kubeconform: str) -> None:
    """The schemas bite: an unknown field in a KafkaTopic, a string where a boolean goes, an unknown field in a
    KafkaNodePool's storage and in a Kafka listener, a KafkaUser authentication Strimzi does not know: refused."""
    bad = built.replace("  topicName: ", "  bogus: 1\n  topicName: ", 1).replace(
        "readOnlyRootFilesystem: true", 'readOnlyRootFilesystem: "yes"', 1).replace(
        "    deleteClaim: false\n", "    deleteClaim: false\n    bogus: 1\n", 1).replace(
        "\n    type: scram-sha-512\n", "\n    type: scram-sha-1024\n", 1).replace(
        "\n      type: internal\n", "\n      type: internal\n      bogus: 1\n", 1)
    assert bad.count("bogus: 1") == 3 and "scram-sha-1024" in bad and '"yes"' in bad
    code, report, _ = conform(kubeconform, bad)
    invalid = sorted(r["kind"] for r in report["resources"] if r["status"] == "statusInvalid")
    expected = ["Kafka", "KafkaTopic", "KafkaNodePool", "KafkaUser", _first_hardened(bad)]
    assert code == 1 and invalid == sorted(expected), invalid


def _first_hardened(manifests: str) -> str:
    """The kind of the first resource whose text has readOnlyRootFilesystem."""
    before = manifests[:manifests.index("readOnlyRootFilesystem")]
    return before[before.rindex("\nkind: ") + 7:].split("\n", 1)[0]


def test_every_topic_of_the_table_has_a_kafka_topic(resources: list[Doc]) -> None:
    topics = {d["spec"]["topicName"] for d in kinds(resources, "KafkaTopic")}
    missing = {t.name for t in TOPICS} - topics
    assert not missing, f"no KafkaTopic for {sorted(missing)}"
    for d in kinds(resources, "KafkaTopic"):
        assert d["metadata"]["labels"]["strimzi.io/cluster"] == "dinamis"


def _acls(resources: list[Doc]) -> dict[str, list[Doc]]:
    return {u["metadata"]["name"]: u["spec"]["authorization"]["acls"] for u in kinds(resources, "KafkaUser")}


def _allowed(acls: list[Doc], kind: str, name: str, operation: str) -> bool:
    for acl in acls:
        res = acl["resource"]
        if res["type"] == "cluster":
            continue
        literal = res.get("patternType", "literal") == "literal"
        matches = res["name"] == name if literal else name.startswith(res["name"])
        if res["type"] == kind and matches and operation in acl["operations"] and acl.get("type", "allow") == "allow":
            return True
    return False


def test_every_topic_a_service_publishes_or_reads_has_an_acl(resources: list[Doc]) -> None:
    acls = _acls(resources)
    for topic in STREAMS:
        assert _allowed(acls[topic.publisher], "topic", topic.name, "Write"), f"{topic.publisher} → {topic.name}"
        for group in topic.consumers:
            service = service_of(group)
            assert _allowed(acls[service], "topic", topic.name, "Read"), f"{group} ← {topic.name}"
            assert _allowed(acls[service], "group", group, "Read"), f"{service} cannot use group {group}"
            assert _allowed(acls[service], "group", f"{group}.retry", "Read"), f"{service}: group {group}.retry"
            for own in (f"{group}.retry", f"{group}.dlq"):
                assert _allowed(acls[service], "topic", own, "Write"), f"{service} → {own}"
            assert _allowed(acls[service], "topic", f"{group}.retry", "Read"), f"{service} ← {group}.retry"


def test_acls_grant_nothing_beyond_a_services_own_topics_and_groups(resources: list[Doc]) -> None:
    acls = _acls(resources)
    assert "gateway" not in acls  # it does not talk to Kafka
    for service, entries in acls.items():
        for acl in entries:
            res = acl["resource"]
            if res["type"] == "cluster":  # idempotent producers, nothing else on the cluster
                assert acl["operations"] == ["IdempotentWrite"], f"{service}: {acl}"
                continue
            assert res["type"] in ("topic", "group") and res["name"] != "*", f"{service}: {acl}"
            assert not {"Delete", "Alter", "All", "ClusterAction"} & set(acl["operations"]), f"{service}: {acl}"
            if res["type"] == "group":
                assert service_of(res["name"]) == service, f"{service} may use another's group: {acl}"
                continue
            topic = next(t for t in TOPICS if t.name == res["name"])
            mine = topic.publisher == service or any(service_of(g) == service for g in topic.consumers)
            assert mine, f"{service} has an ACL on {topic.name}"
            if "Write" in acl["operations"]:
                assert topic.publisher == service, f"{service} may write {topic.name}"
    for service in SERVICES[:-1]:
        assert named(resources, "KafkaUser", service)["spec"]["authentication"]["type"] == "scram-sha-512"


def _containers(doc: Doc) -> list[Doc]:
    pod = doc["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


def test_every_deployment_is_probed_limited_and_hardened(resources: list[Doc]) -> None:
    deployments = kinds(resources, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} >= set(SERVICES)
    workloads = deployments + kinds(resources, "StatefulSet") + kinds(resources, "Job")
    assert {d["metadata"]["name"] for d in workloads} >= {"objectstore", "objectstore-buckets"}
    for d in workloads:
        name = d["metadata"]["name"]
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod.get("automountServiceAccountToken") is False, name
        for c in _containers(d):
            where = f"{name}/{c['name']}"
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{where}: {bound}"
            if d["kind"] == "Job":  # runs to its end: no probes
                continue
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert "httpGet" in c[probe], f"{where}: no {probe}"
            if name in SERVICES:
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", where
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", where
                assert c["command"] == ["python", "-m", f"{name}_service"], where


def test_every_service_has_its_service_account_pdb_and_config(resources: list[Doc]) -> None:
    for name in SERVICES:
        deployment = named(resources, "Deployment", name)
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name
        named(resources, "ServiceAccount", name)
        named(resources, "Service", name)
        pdb = named(resources, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert named(resources, "ConfigMap", name)["data"]["SERVICE_NAME"] == name


_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY$|PRIVATE|MONGODB_URI)", re.I)
_CREDENTIAL_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")


def test_no_secret_value_is_inlined(resources: list[Doc], built: str) -> None:
    for secret in kinds(resources, "Secret"):
        assert not secret.get("data") and not secret.get("stringData"), f"Secret {secret['metadata']['name']}"
    assert not _CREDENTIAL_IN_URL.search(built), "a URL with a password in the manifests"
    for cm in kinds(resources, "ConfigMap"):
        for key in cm.get("data", {}):
            where = f"ConfigMap {cm['metadata']['name']}: {key}"
            assert not (_SECRET_NAME.search(key) and not key.endswith("_FILE")), where
    for d in kinds(resources, "Deployment") + kinds(resources, "StatefulSet") + kinds(resources, "Job"):
        for c in _containers(d):
            for env in c.get("env", []):
                if _SECRET_NAME.search(env["name"]):
                    assert "secretKeyRef" in env.get("valueFrom", {}), f"{d['metadata']['name']}: {env['name']} inlined"
    realm = named(resources, "KeycloakRealmImport", "dinamis")
    assert all("secret" in ref for ref in realm["spec"]["placeholders"].values())
    keycloak = named(resources, "Keycloak", "keycloak")
    assert {"usernameSecret", "passwordSecret"} <= set(keycloak["spec"]["db"])
    for user in named(resources, "MongoDBCommunity", "dinamis-mongodb")["spec"]["users"]:
        assert set(user["passwordSecretRef"]) == {"name", "key"}


def _selects(policy: Doc, service: str) -> bool:
    return policy["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": service}


def _callers(resources: list[Doc], service: str) -> set[str]:
    """The services whose settings name this one's URL (the gateway routes to all; requests asks the catalogue
    and arbitration)."""
    return {cm["metadata"]["name"] for cm in kinds(resources, "ConfigMap")
            if any(v == f"http://{service}" for v in cm.get("data", {}).values())}


def test_every_service_admits_only_the_gateway_or_its_declared_callers(resources: list[Doc]) -> None:
    policies = kinds(resources, "NetworkPolicy")
    for service in SERVICES:
        mine = [p for p in policies if _selects(p, service)]
        ingress = [p for p in mine if p["metadata"]["name"] == f"{service}-ingress"]
        assert len(ingress) == 1, f"{service}: no ingress NetworkPolicy"
        spec = ingress[0]["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        peers = [peer for rule in spec.get("ingress", []) for peer in rule.get("from", [])]
        if service == "gateway":
            controller = {"kubernetes.io/metadata.name": "ingress-nginx"}
            assert peers and all(p["namespaceSelector"]["matchLabels"] == controller for p in peers), peers
        else:
            assert "gateway" in _callers(resources, service)
            admitted = set()
            for peer in peers:
                assert set(peer) == {"podSelector"}, f"{service} admits {peer}"
                admitted.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
            assert admitted <= _callers(resources, service), f"{service} admits {admitted}"
            assert "gateway" in admitted
        for other in mine:  # the only other: Prometheus scraping, where ServiceMonitors are deployed
            if other is ingress[0]:
                continue
            assert other["metadata"]["name"] == f"{service}-metrics-scrape"
            assert [p["namespaceSelector"]["matchLabels"] for r in other["spec"]["ingress"] for p in r["from"]] == [
                {"kubernetes.io/metadata.name": "monitoring"}]


def test_only_the_gateway_is_exposed_with_tls(resources: list[Doc]) -> None:
    (ingress,) = kinds(resources, "Ingress")
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    assert hosts <= {h for t in ingress["spec"]["tls"] for h in t["hosts"]} and ingress["spec"]["tls"][0]["secretName"]
    for svc in kinds(resources, "Service"):
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", svc["metadata"]["name"]


def test_prod_scales_consumers_on_cpu_and_lag(resources: list[Doc], overlay: str) -> None:
    hpas = {h["metadata"]["name"]: h for h in kinds(resources, "HorizontalPodAutoscaler")}
    if overlay == "dev":
        assert not hpas
        return
    assert set(hpas) == set(SERVICES)
    for name, hpa in hpas.items():
        metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
        assert metrics["Resource"]["resource"]["name"] == "cpu"
        if name != "gateway":
            assert metrics["External"]["external"]["metric"]["name"] == "dinamis_consumer_lag_records"


def test_every_dependency_comes_through_its_operator(resources: list[Doc]) -> None:
    assert len(kinds(resources, "Kafka")) == 1 and len(kinds(resources, "KafkaNodePool")) == 2
    assert {c["metadata"]["name"] for c in kinds(resources, "Cluster")} == {"dinamis-pg", "keycloak-pg"}
    users = {u["name"]: u for u in named(resources, "MongoDBCommunity", "dinamis-mongodb")["spec"]["users"]}
    assert set(users) == {"accounts", "requests", "arbitration", "provisioning"}
    for name, user in users.items():
        assert {r["db"] for r in user["roles"]} == {f"dinamis_{name}"}
    named(resources, "Keycloak", "keycloak")


def test_the_object_store_serves_s3_with_its_identities_from_a_secret_and_gets_its_buckets(
        resources: list[Doc]) -> None:
    store = named(resources, "StatefulSet", "objectstore")
    pod = store["spec"]["template"]["spec"]
    (weed,) = pod["containers"]
    assert weed["command"] == ["/usr/bin/weed"] and "server" in weed["args"] and "-s3" in weed["args"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in weed["args"]
    mounts = {m["name"]: m for m in weed["volumeMounts"]}
    assert mounts["s3-config"]["mountPath"] == "/etc/seaweedfs" and mounts["s3-config"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["s3-config"]["secret"]["secretName"] == "objectstore-s3-config"
    assert [c["metadata"]["name"] for c in store["spec"]["volumeClaimTemplates"]] == ["data"]
    assert mounts["data"]["mountPath"] == "/data" and "-dir=/data" in weed["args"]
    service = named(resources, "Service", "dinamis-objectstore")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]}["s3"] == 8333
    for name in ("catalogue", "provisioning"):  # the services are given this store
        assert named(resources, "ConfigMap", name)["data"]["OBJECT_STORE_URL"] == "http://dinamis-objectstore:8333"
    job = named(resources, "Job", "objectstore-buckets")
    script = "\n".join(job["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "for bucket in deliveries thumbnails;" in script and "s3.bucket.create -name $bucket" in script
    assert "-master=dinamis-objectstore:9333" in script
    policy = named(resources, "NetworkPolicy", "objectstore-ingress")["spec"]  # both overlays have the component
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "objectstore"}
    admitted = {(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
                 tuple(x["port"] for x in rule.get("ports", [])))
                for rule in policy["ingress"] for peer in rule["from"]}
    assert admitted == {("catalogue", ("s3",)), ("provisioning", ("s3",)), ("objectstore", ()),
                        ("objectstore-buckets", ("master", "master-grpc", "filer", "filer-grpc"))}


_REALM = json.loads((ROOT / "deploy" / "keycloak" / "dinamis-realm.json").read_text())
_PLACEHOLDER = re.compile(r"^\$\{(DINAMIS_[A-Z0-9_]+)(?::[^}]*)?\}$")
# the Keycloak operator's v2alpha1 fields these resources use (keycloak.org, "Basic Keycloak deployment" and
# "Importing a realm"): kubeconform cannot check them (UNCHECKED_KINDS), so a typo must at least be caught here
_KEYCLOAK_SPEC = {"instances", "db", "http", "hostname", "proxy", "ingress", "resources"}
_KEYCLOAK_DB = {"vendor", "host", "port", "database", "usernameSecret", "passwordSecret"}


def _secret_fields(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [hit for k, v in node.items() for hit in (
            [(f"{path}/{k}", v)] if re.fullmatch(r"(?i).*secret|password", k) and not isinstance(v, (dict, list))
            else _secret_fields(v, f"{path}/{k}"))]
    if isinstance(node, list):
        return [hit for i, v in enumerate(node) for hit in _secret_fields(v, f"{path}/{i}")]
    return []


def test_keycloak_resources_keep_their_shape(resources: list[Doc]) -> None:
    """Keycloak and its realm import, checked by hand since no registry serves their CRDs: the operator's
    API, the realm generated from deploy/keycloak, every secret referenced from a Secret, never inlined."""
    keycloak = named(resources, "Keycloak", "keycloak")
    assert keycloak["apiVersion"] == "k8s.keycloak.org/v2alpha1"
    spec = keycloak["spec"]
    assert set(spec) <= _KEYCLOAK_SPEC, set(spec) - _KEYCLOAK_SPEC
    assert isinstance(spec["instances"], int) and spec["instances"] >= 1
    assert set(spec["db"]) <= _KEYCLOAK_DB and spec["db"]["vendor"] == "postgres"
    cluster = named(resources, "Cluster", "keycloak-pg")
    assert spec["db"]["host"] == "keycloak-pg-rw" and spec["db"]["database"] == cluster["spec"]["bootstrap"][
        "initdb"]["database"]
    for key in ("usernameSecret", "passwordSecret"):  # CloudNativePG's app Secret of that cluster
        assert spec["db"][key] == {"name": "keycloak-pg-app", "key": key.removesuffix("Secret")}
    assert spec["hostname"]["hostname"].startswith("https://")
    assert _secret_fields(spec) == [], "a secret inlined in the Keycloak resource"

    realm_import = named(resources, "KeycloakRealmImport", "dinamis")
    assert realm_import["apiVersion"] == "k8s.keycloak.org/v2alpha1"
    assert set(realm_import["spec"]) == {"keycloakCRName", "realm", "placeholders"}
    assert realm_import["spec"]["keycloakCRName"] == keycloak["metadata"]["name"]
    assert realm_import["spec"]["realm"] == _REALM  # generated from deploy/keycloak, unchanged
    secrets = _secret_fields(realm_import["spec"]["realm"])
    assert secrets, "the realm's client and identity-provider secrets"
    used = set()
    for where, value in secrets:
        m = _PLACEHOLDER.match(str(value))
        assert m, f"{where}: inlined (not a ${{DINAMIS_…}} placeholder)"
        used.add(m.group(1))
    placeholders = realm_import["spec"]["placeholders"]
    assert used <= set(placeholders)
    for name, ref in placeholders.items():
        assert ref == {"secret": {"name": "keycloak-realm-placeholders", "key": name}}, name
