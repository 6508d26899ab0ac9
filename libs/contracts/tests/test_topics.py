"""The topic table says exactly what the services do: every topic a service publishes or reads
(and its groups' retry and dead-letter topics) is declared, and every declaration is used."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from dinamis_common.runtime import Runtime
from dinamis_contracts import topics
from dinamis_contracts.topics import STREAMS, TOPICS, dlq_topic, retry_topic, service_of, topic_configs
from fastapi.testclient import TestClient

SERVICES_DIR = Path(__file__).resolve().parents[3] / "services"


def _composition(name: str):
    for module in ("bootstrap", "app"):
        try:
            found = importlib.import_module(f"{name}_service.{module}")
        except ModuleNotFoundError:
            continue
        if hasattr(found, "create_app"):
            return found.create_app
    raise AssertionError(f"service {name}: no create_app in {name}_service.bootstrap or .app")


@pytest.fixture(scope="module")
def declared(tmp_path_factory):
    """Each service's app built (no I/O) with its Runtime's declarations recorded."""
    from dinamis_cli.stack.pki import ensure_signing_pki

    pki = ensure_signing_pki(tmp_path_factory.mktemp("pki"))
    env = {"CERTIFICATE_KEY_FILE": str(pki.key), "CERTIFICATE_CERT_FILE": str(pki.cert)}
    apps: dict[str, Any] = {}
    runtimes: dict[str, Runtime] = {}
    published: dict[str, set[str]] = {}
    subscribed: dict[str, set[tuple[str, str]]] = {}
    original_publishes, original_subscribe = Runtime.publishes, Runtime.subscribe

    def publishes(self, *names):
        runtimes[self.settings.service_name] = self
        published.setdefault(self.settings.service_name, set()).update(names)
        return original_publishes(self, *names)

    def subscribe(self, topic, group, handler, *args, **kwargs):
        runtimes[self.settings.service_name] = self
        subscribed.setdefault(self.settings.service_name, set()).add((topic, group))
        return original_subscribe(self, topic, group, handler, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setattr(Runtime, "publishes", publishes)
        mp.setattr(Runtime, "subscribe", subscribe)
        names = sorted(p.name for p in SERVICES_DIR.iterdir() if (p / "pyproject.toml").exists())
        for name in names:
            settings = importlib.import_module(f"{name}_service.settings").Settings()
            apps[name] = _composition(name)(settings)
    return names, runtimes, published, subscribed, apps


def test_every_published_topic_is_declared_with_its_publisher(declared):
    _, _, published, _, _ = declared
    used = {(service, topic) for service, names in published.items() for topic in names}
    assert used == {(t.publisher, t.name) for t in STREAMS}


def test_every_subscription_is_declared_and_every_declared_group_subscribes(declared):
    _, _, _, subscribed, _ = declared
    used = {(service, topic, group) for service, subs in subscribed.items() for topic, group in subs}
    assert used == {(service_of(g), t.name, g) for t in STREAMS for g in t.consumers}


def test_a_runtime_uses_only_declared_topics_and_all_of_its_own(declared):
    """Live topics, and the retry and dead-letter topics of the service's groups."""
    names, runtimes, _, _, _ = declared
    for name in names:
        if name in runtimes:
            assert set(runtimes[name].topic_names()) == {t.name for t in topics.topics_of(name)}, name
        else:
            assert topics.topics_of(name) == [], f"{name} declares no topic but the table gives it some"


def test_each_group_owns_a_retry_and_a_dead_letter_topic():
    names = {t.name for t in TOPICS}
    groups = [g for t in STREAMS for g in t.consumers]
    assert len(groups) == len(set(groups)), "a consumer group reads one topic"
    for group in groups:
        assert {retry_topic(group), dlq_topic(group)} <= names
    assert len(names) == len(TOPICS) == len(STREAMS) + 2 * len(groups)


def test_rendered_for_a_one_broker_stack_and_for_production():
    production = {c["name"]: c for c in topic_configs()}
    local = {c["name"]: c for c in topic_configs(brokers=1, namespace="t1.")}
    entity = production["accounts.entity.events.v1"]
    assert entity["replication_factor"] == 3
    assert entity["config"] == {"cleanup.policy": "compact", "retention.ms": "-1", "min.insync.replicas": "2"}
    assert local["t1.accounts.entity.events.v1"]["replication_factor"] == 1
    assert local["t1.accounts.entity.events.v1"]["config"]["min.insync.replicas"] == "1"
    assert production["requests.entities.dlq"]["partitions"] == 1
    assert all(c["partitions"] >= 1 for c in production.values())


def test_every_event_type_of_a_stream_names_its_domain_and_topic():
    for t in STREAMS:
        domain = t.name.split(".")[0]
        assert t.events, t.name
        for event_type in t.events:
            assert event_type.startswith(f"fr.dinamis.{domain}."), event_type


def test_each_service_serves_an_asyncapi_document_of_its_topics_and_event_types(declared):
    names, _, _, _, apps = declared
    for name in names:
        response = TestClient(apps[name]).get("/asyncapi")
        assert response.status_code == 200, name
        doc = response.json()
        assert doc["asyncapi"].startswith("3.") and doc["info"]["title"] == f"DINAMIS {name}"
        operations = {(op["action"], doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"])
                      for op in doc["operations"].values()}
        published = [t for t in STREAMS if t.publisher == name]
        read = [t for t in STREAMS if any(service_of(g) == name for g in t.consumers)]
        assert {a for action, a in operations if action == "send"} == {t.name for t in published}, name
        assert {t.name for t in read} <= {a for action, a in operations if action == "receive"}, name
        for t in published:
            for event_type, payload in t.events.items():
                assert f"{t.name}:{event_type}" in doc["channels"], (name, event_type)
                assert payload.__name__ in doc["components"]["schemas"], (name, payload)
        for t in read:
            described = " ".join(c.get("description", "") for c in doc["channels"].values() if c["address"] == t.name)
            assert all(event_type in described for event_type in t.events), (name, t.name)
