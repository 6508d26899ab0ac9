"""The generated half of ``deploy/k8s``: what follows from the code, so the cluster and the code never disagree.

``python -m dinamis_cli.k8s render`` writes, and ``python -m dinamis_cli.k8s check`` compares (exit 1 on a
difference; the test suite does the same):

* ``base/<service>/``: each service's Deployment, Service, ConfigMap, ServiceAccount and
  PodDisruptionBudget (the gateway's Ingress too), from one pattern (hardened pod, probes, limits);
* ``base/kafka/topics.yaml``: a Strimzi ``KafkaTopic`` per topic of ``dinamis_contracts.topics``;
* ``base/kafka/users.yaml``: a ``KafkaUser`` per service, its ACLs from ``dinamis_cli.stack.kafka_acl``
  (the same rules the local stack applies to its broker, from the same table);
* ``base/mongodb/mongodb.yaml``: the MongoDB replica set with one database and one user per service;
* ``base/keycloak/realm-import.yaml``: a ``KeycloakRealmImport`` of ``deploy/keycloak/dinamis-realm.json``
  whose ``${DINAMIS_…}`` placeholders all come from one Secret (never a value in the repository);
* ``components/network-policies``, ``components/hpa``, ``components/service-monitors``: one per service.

Each service runs its API, its consumers and its relay in one process today (no setting splits them),
so each has one Deployment. Pure rendering: nothing here reads the environment or a cluster.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dinamis_contracts.topics import TOPICS, Topic, render

from dinamis_cli.stack.kafka_acl import acls_of, services_of

SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")
PART_OF = "dinamis"
KAFKA_CLUSTER = "dinamis"
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9092"  # the SCRAM-SHA-512 listener (base/kafka/kafka.yaml)
OBJECT_STORE_URL = "http://dinamis-objectstore:8333"  # the S3 port of the SeaweedFS StatefulSet (base/objectstore)
MONGODB = "dinamis-mongodb"
POSTGRES = "dinamis-pg"  # CloudNativePG cluster: the catalogue's pgstac (database catalogue), the gateway's counters
KEYCLOAK = "keycloak"
KEYCLOAK_INTERNAL = f"http://{KEYCLOAK}-service:8080"
REALM_FILE = "deploy/keycloak/dinamis-realm.json"
REALM_SECRET = "keycloak-realm-placeholders"  # noqa: S105 - a Secret's name, no value
HTTP_PORT = 8080
UID = 10001


@dataclass(frozen=True)
class Service:
    name: str
    store: str  # "mongodb" or "postgres"
    calls: tuple[str, ...] = ()  # platform services it calls over HTTP (its *_URL settings)
    secrets: tuple[tuple[str, str, str], ...] = ()  # (variable, secret, key)
    consumes: bool = True  # talks to Kafka (publishes or reads); the gateway does not
    object_store: bool = False  # has S3 keys of its own (Secret <service>-objectstore)

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": PART_OF}


# What each service reaches (its Settings): the stores it owns, the services it calls, its secrets.
CATALOGUE = (
    Service("accounts", "mongodb", secrets=(
        ("KEYCLOAK_CLIENT_SECRET", "accounts-keycloak-client", "client-secret"),)),
    Service("catalogue", "postgres", object_store=True, secrets=(("POSTGRES_DSN", f"{POSTGRES}-app", "uri"),)),
    Service("requests", "mongodb", calls=("catalogue", "arbitration")),
    Service("arbitration", "mongodb"),
    Service("provisioning", "mongodb", object_store=True, secrets=(
        ("AIRBUS_API_KEY", "provisioning-airbus", "api-key"),
        ("AIRBUS_NOTIFICATION_SECRET", "provisioning-airbus", "notification-secret"))),
    Service("gateway", "postgres", calls=("accounts", "catalogue", "requests", "arbitration", "provisioning"),
            secrets=(("PGPASSWORD", f"{POSTGRES}-gateway", "password"),), consumes=False),
)


def services() -> dict[str, Service]:
    return {s.name: s for s in CATALOGUE}


# ---------------------------------------------------------------------------------------------------- YAML

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            k = _scalar(key)
            if isinstance(item, dict) and item:
                out.append(f"{pad}{k}:")
                _emit(item, indent + 1, out)
            elif isinstance(item, list) and item:
                out.append(f"{pad}{k}:")
                _emit(item, indent, out)
            else:
                out.append(f"{pad}{k}: {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                sub: list[str] = []
                _emit(item, indent + 1, sub)
                first = sub[0][len(pad) + 2:]
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
    else:
        out.append(pad + _scalar(value))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(documents: Iterable[dict[str, Any]]) -> str:
    """Block-style YAML, one document per resource; strings quoted as JSON whenever plain could mislead."""
    parts: list[str] = []
    for doc in documents:
        lines: list[str] = []
        _emit(doc, 0, lines)
        parts.append("\n".join(lines) + "\n")
    return "---\n".join(parts)


def _header(what: str) -> str:
    return f"# GENERATED by `python -m dinamis_cli.k8s render` ({what}): do not edit by hand.\n"


# ------------------------------------------------------------------------------------------------ services

def _meta(name: str, labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    meta.update(extra)
    return meta


def config(svc: Service) -> dict[str, str]:
    """The service's non-secret settings (an overlay patches the ones that name the site)."""
    env = {
        "SERVICE_NAME": svc.name, "HTTP_HOST": "0.0.0.0", "HTTP_PORT": str(HTTP_PORT),  # noqa: S104 - in a pod
        "LOG_LEVEL": "INFO",
        "PUBLIC_URL": "https://dinamis.example.org",
        "AUTH_ISSUER": "https://auth.dinamis.example.org/realms/dinamis",
        "AUTH_JWKS_URL": f"{KEYCLOAK_INTERNAL}/realms/dinamis/protocol/openid-connect/certs",
        "AUTH_AUDIENCE": "dinamis-api",
        "FORWARDED_ALLOW_IPS": "",  # nobody's X-Forwarded-For; an overlay names the pod network (README)
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
    }
    if svc.consumes:
        env.update({"KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_USERNAME": svc.name})
    if svc.object_store:
        env["OBJECT_STORE_URL"] = OBJECT_STORE_URL
    for other in svc.calls:
        env[f"{other.upper()}_URL"] = f"http://{other}"
    if svc.store == "mongodb":
        env["MONGODB_DATABASE"] = f"dinamis_{svc.name}"
    if svc.name == "gateway":
        env["POSTGRES_DSN"] = f"postgresql://gateway@{POSTGRES}-rw:5432/gateway?sslmode=require"
    if svc.name == "accounts":
        env.update({"PORTAL_URL": "https://dinamis.example.org", "KEYCLOAK_URL": KEYCLOAK_INTERNAL,
                    "KEYCLOAK_REALM": "dinamis", "KEYCLOAK_CLIENT_ID": "svc-accounts",
                    "SMTP_HOST": "smtp.example.org", "SMTP_PORT": "587", "SMTP_FROM": "no-reply@dinamis.example.org",
                    "CERTIFICATE_KEY_FILE": "/run/secrets/dinamis/certificate-key.pem",
                    "CERTIFICATE_CERT_FILE": "/run/secrets/dinamis/certificate.pem"})
    if svc.name == "provisioning":
        env["AIRBUS_URL"] = "https://airbus.example.org"
    return env


def _secret_env(svc: Service) -> list[dict[str, Any]]:
    env = [{"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
           for var, secret, key in svc.secrets]
    if svc.store == "mongodb":  # the connection string the MongoDB operator writes for the service's user
        env.append({"name": "MONGODB_URI", "valueFrom": {"secretKeyRef": {
            "name": f"{MONGODB}-admin-{svc.name}", "key": "connectionString.standard"}}})
    if svc.consumes:  # the SCRAM password Strimzi's user operator writes for the service's KafkaUser
        env.append({"name": "KAFKA_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": svc.name, "key": "password"}}})
    if svc.object_store:  # its S3 key pair (its grants: the store's s3.json, base/objectstore)
        env.extend({"name": var, "valueFrom": {"secretKeyRef": {"name": f"{svc.name}-objectstore", "key": key}}}
                   for var, key in (("OBJECT_STORE_ACCESS_KEY", "access-key"),
                                    ("OBJECT_STORE_SECRET_KEY", "secret-key")))
    return env


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 3,
            "failureThreshold": failures}


POD_SECURITY = {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
                "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                      "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def deployment(svc: Service) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - the pod's own emptyDir
    if svc.name == "accounts":  # the membership certificates' signing key and certificate
        volumes.append({"name": "certificate", "secret": {"secretName": "accounts-certificate", "defaultMode": 0o440}})
        mounts.append({"name": "certificate", "mountPath": "/run/secrets/dinamis", "readOnly": True})
    container = {
        "name": svc.name,
        "image": f"dinamis/{svc.name}",
        "command": ["python", "-m", f"{svc.name}_service"],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": svc.name}}],
        "env": _secret_env(svc),
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"cpu": "1", "memory": "512Mi", "ephemeral-storage": "512Mi"}},
        "startupProbe": _probe("/healthz", 2, 30),
        "livenessProbe": _probe("/healthz", 10, 3),
        "readinessProbe": _probe("/readyz", 5, 3),
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(svc.name, svc.labels),
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": svc.name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": svc.labels},
                "spec": {
                    "serviceAccountName": svc.name,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": POD_SECURITY,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": svc.name}}}],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service_resources(svc: Service) -> dict[str, str]:
    """Files of ``base/<service>/``."""
    docs = {
        "configmap.yaml": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(svc.name, svc.labels),
                           "data": config(svc)},
        "serviceaccount.yaml": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(svc.name, svc.labels),
                                "automountServiceAccountToken": False},
        "service.yaml": {"apiVersion": "v1", "kind": "Service", "metadata": _meta(svc.name, svc.labels),
                         "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": svc.name},
                                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}},
        "pdb.yaml": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(svc.name, svc.labels),
                     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": svc.name}}}},
        "deployment.yaml": deployment(svc),
    }
    if svc.name == "gateway":  # the only way in from outside: TLS, certificate by cert-manager
        docs["ingress.yaml"] = {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": _meta("gateway", svc.labels, annotations={"cert-manager.io/cluster-issuer": "letsencrypt"}),
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": ["dinamis.example.org"], "secretName": "dinamis-tls"}],
                     "rules": [{"host": "dinamis.example.org", "http": {"paths": [{
                         "path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "gateway", "port": {"name": "http"}}}}]}}]}}
    files = {name: _header(f"{svc.name}") + to_yaml([doc]) for name, doc in docs.items()}
    files["kustomization.yaml"] = _header(svc.name) + to_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(docs)}])
    return files


# --------------------------------------------------------------------------------------------------- Kafka

def kafka_topic(topic: Topic) -> dict[str, Any]:
    spec = render(topic)
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": _meta(re.sub(r"[^a-z0-9.-]", "-", topic.name.lower()),
                          {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF,
                           "dinamis.fr/publisher": topic.publisher, "dinamis.fr/kind": topic.kind}),
        "spec": {"topicName": spec["name"], "partitions": spec["partitions"],
                 "replicas": spec["replication_factor"], "config": spec["config"]},
    }


# kafka_acl's operations as Strimzi spells them
_STRIMZI_OPERATIONS = {"READ": "Read", "WRITE": "Write", "CREATE": "Create", "DESCRIBE": "Describe",
                       "DESCRIBE_CONFIGS": "DescribeConfigs", "ALTER_CONFIGS": "AlterConfigs",
                       "IDEMPOTENT_WRITE": "IdempotentWrite"}


def kafka_acls(service: str) -> list[dict[str, Any]]:
    """The service's rights as ``dinamis_cli.stack.kafka_acl`` derives them from the topic table (the same
    rules the local stack applies to its broker), one Strimzi ACL per resource."""
    by_resource: dict[tuple[str, str, str], list[str]] = {}
    for acl in acls_of(service):
        by_resource.setdefault((acl.resource, acl.name, acl.pattern), []).append(_STRIMZI_OPERATIONS[acl.operation])
    out: list[dict[str, Any]] = []
    for (kind, name, pattern), operations in by_resource.items():
        resource = {"type": kind} if kind == "cluster" else {
            "type": kind, "name": name, "patternType": "prefix" if pattern == "prefixed" else "literal"}
        out.append({"resource": resource, "operations": operations})
    return out


def kafka_user(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": _meta(service, {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF}),
        "spec": {"authentication": {"type": "scram-sha-512"},
                 "authorization": {"type": "simple", "acls": kafka_acls(service)}},
    }


# ----------------------------------------------------------------------------------------- MongoDB, Keycloak

def mongodb() -> dict[str, Any]:
    users = [{
        "name": s.name, "db": "admin",
        "passwordSecretRef": {"name": f"{s.name}-mongodb-password", "key": "password"},
        "roles": [{"name": "readWrite", "db": f"dinamis_{s.name}"}, {"name": "dbAdmin", "db": f"dinamis_{s.name}"}],
        "scramCredentialsSecretName": f"{s.name}-mongodb-scram",
    } for s in CATALOGUE if s.store == "mongodb"]
    return {
        "apiVersion": "mongodbcommunity.mongodb.com/v1", "kind": "MongoDBCommunity",
        "metadata": _meta(MONGODB, {"app.kubernetes.io/part-of": PART_OF}),
        "spec": {
            "type": "ReplicaSet", "members": 3, "version": "8.0.12",
            "security": {"authentication": {"modes": ["SCRAM"]}},
            "users": users,
            "statefulSet": {"spec": {"volumeClaimTemplates": [{
                "metadata": {"name": "data-volume"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}}}]}},
        },
    }


_PLACEHOLDER = re.compile(r"\$\{(DINAMIS_[A-Z0-9_]+)(?::[^}]*)?\}")


def realm_import(root: Path) -> dict[str, Any]:
    text = (root / REALM_FILE).read_text()
    names = sorted(set(_PLACEHOLDER.findall(text)))
    return {
        "apiVersion": "k8s.keycloak.org/v2alpha1", "kind": "KeycloakRealmImport",
        "metadata": _meta("dinamis", {"app.kubernetes.io/part-of": PART_OF}),
        "spec": {"keycloakCRName": KEYCLOAK, "realm": json.loads(text),
                 "placeholders": {n: {"secret": {"name": REALM_SECRET, "key": n}} for n in names}},
    }


# ------------------------------------------------------------------------------------------------ components

def network_policy(svc: Service) -> dict[str, Any]:
    """Who may open a connection to the service: the gateway (and the services whose settings call it);
    the gateway itself only from the ingress controller."""
    if svc.name == "gateway":
        peers: list[dict[str, Any]] = [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}]
    else:
        callers = sorted(s.name for s in CATALOGUE if svc.name in s.calls)
        peers = [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": c}}} for c in callers]
    spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": svc.name}},
                            "policyTypes": ["Ingress"]}
    spec["ingress"] = [{"from": peers, "ports": [{"port": "http", "protocol": "TCP"}]}] if peers else []
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(f"{svc.name}-ingress", svc.labels), "spec": spec}


def objectstore_policy() -> dict[str, Any]:
    """Who may reach SeaweedFS (base/objectstore): its S3 port the services with keys of their own; its
    master and filer the buckets Job (weed shell); every port the store itself (its parts call each other on
    the pod's address)."""
    def pod(name: str) -> dict[str, Any]:
        return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}

    def ports(*names: str) -> list[dict[str, Any]]:
        return [{"port": n, "protocol": "TCP"} for n in names]

    users = sorted(s.name for s in CATALOGUE if s.object_store)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta("objectstore-ingress", {"app.kubernetes.io/name": "objectstore"}),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "objectstore"}},
                     "policyTypes": ["Ingress"],
                     "ingress": [
                         {"from": [pod(u) for u in users], "ports": ports("s3")},
                         {"from": [pod("objectstore-buckets")],
                          "ports": ports("master", "master-grpc", "filer", "filer-grpc")},
                         {"from": [pod("objectstore")]}]}}


# The consumer-lag metric is a placeholder until the observability half of issue 14 exports it and an
# adapter (prometheus-adapter or KEDA) serves it on the external metrics API under this name.
CONSUMER_LAG_METRIC = "dinamis_consumer_lag_records"


def hpa(svc: Service) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    if svc.consumes:
        metrics.append({"type": "External", "external": {
            "metric": {"name": CONSUMER_LAG_METRIC, "selector": {"matchLabels": {"service": svc.name}}},
            "target": {"type": "AverageValue", "averageValue": "1000"}}})
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(svc.name, svc.labels),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc.name},
                     # consumers scale with partitions: more replicas than a stream's partitions would idle
                     "minReplicas": 2, "maxReplicas": 3 if svc.consumes else 10, "metrics": metrics}}


def service_monitor(svc: Service) -> dict[str, Any]:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta(svc.name, svc.labels),
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": svc.name}},
                     "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]}}


def scrape_policy(svc: Service) -> dict[str, Any]:
    """With the ServiceMonitors only: Prometheus (namespace ``monitoring``) may scrape the service's port."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(f"{svc.name}-metrics-scrape", svc.labels),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": svc.name}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{
                         "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
                         "ports": [{"port": "http", "protocol": "TCP"}]}]}}


def _component(what: str, docs: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "resources.yaml": _header(what) + to_yaml(docs),
        "kustomization.yaml": _header(what) + to_yaml([{
            "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": ["resources.yaml"]}]),
    }


# ------------------------------------------------------------------------------------------------ the whole

def render_all(root: Path) -> dict[str, str]:
    """Every generated file under ``deploy/k8s``, by path relative to it."""
    files: dict[str, str] = {}
    for svc in CATALOGUE:
        for name, text in service_resources(svc).items():
            files[f"base/{svc.name}/{name}"] = text
    files["base/kafka/topics.yaml"] = _header("topics table") + to_yaml(kafka_topic(t) for t in TOPICS)
    users = [kafka_user(name) for name in services_of()]
    files["base/kafka/users.yaml"] = _header("topics table") + to_yaml(users)
    files["base/mongodb/mongodb.yaml"] = _header("one user per service") + to_yaml([mongodb()])
    files["base/keycloak/realm-import.yaml"] = _header(REALM_FILE) + to_yaml([realm_import(root)])
    policies = [network_policy(s) for s in CATALOGUE] + [objectstore_policy()]
    for path, text in _component("network policies", policies).items():
        files[f"components/network-policies/{path}"] = text
    for path, text in _component("autoscaling", [hpa(s) for s in CATALOGUE]).items():
        files[f"components/hpa/{path}"] = text
    monitors = [service_monitor(s) for s in CATALOGUE] + [scrape_policy(s) for s in CATALOGUE]
    for path, text in _component("service monitors", monitors).items():
        files[f"components/service-monitors/{path}"] = text
    return files


def repo_root() -> Path:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / REALM_FILE).exists():
            return candidate
    raise SystemExit("run from inside the repository (deploy/keycloak/dinamis-realm.json not found)")


def differences(root: Path) -> list[str]:
    """Generated files that differ from a fresh render (or are missing)."""
    base = root / "deploy" / "k8s"
    out = []
    for rel, text in render_all(root).items():
        path = base / rel
        if not path.exists() or path.read_text() != text:
            out.append(rel)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    root = repo_root()
    if command == "render":
        for rel, text in render_all(root).items():
            path = root / "deploy" / "k8s" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                print(f"wrote deploy/k8s/{rel}")
        return 0
    if command == "check":
        stale = differences(root)
        for rel in stale:
            print(f"deploy/k8s/{rel} differs from a fresh render: run `python -m dinamis_cli.k8s render`")
        return 1 if stale else 0
    print("usage: python -m dinamis_cli.k8s [render|check]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
