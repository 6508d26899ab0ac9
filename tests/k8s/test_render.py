"""The generated half of deploy/k8s equals a fresh render of the code it follows."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from dinamis_cli import k8s
from dinamis_contracts.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def test_generated_files_equal_a_fresh_render() -> None:
    stale = k8s.differences(ROOT)
    assert stale == [], f"stale: {stale}: run `uv run python -m dinamis_cli.k8s render` and commit"


def test_check_command_fails_on_an_edited_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "deploy" / "keycloak").mkdir(parents=True)
    (tmp_path / k8s.REALM_FILE).write_text((ROOT / k8s.REALM_FILE).read_text())
    monkeypatch.chdir(tmp_path)
    assert k8s.main(["check"]) == 1  # nothing rendered yet
    assert k8s.main(["render"]) == 0
    assert k8s.main(["check"]) == 0
    topics = tmp_path / "deploy" / "k8s" / "base" / "kafka" / "topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 3", "partitions: 6", 1))
    assert k8s.main(["check"]) == 1


def test_yaml_reads_back_as_rendered() -> None:
    tricky = {"a": ["yes", "no", "on", "1", "0.5", "", "null", "x: y", "- z", "#c", "${DINAMIS_X:d}", "é\nb"],
              "b": {"nested": [[1, 2], {"k": True, "n": None}], "empty": {}, "none": []},
              "0": 0, "url": "http://x:1/y?z=1"}
    assert yaml.safe_load(k8s.to_yaml([tricky])) == tricky


def test_every_topic_is_rendered_with_the_tables_values() -> None:
    docs = list(yaml.safe_load_all((K8S / "base" / "kafka" / "topics.yaml").read_text()))
    by_name = {d["spec"]["topicName"]: d["spec"] for d in docs}
    assert set(by_name) == {t.name for t in TOPICS}
    for t in TOPICS:
        spec = by_name[t.name]
        assert (spec["partitions"], spec["replicas"]) == (t.partitions, t.replication_factor), t.name
        assert spec["config"] == {"cleanup.policy": t.cleanup_policy, "retention.ms": str(t.retention_ms),
                                  "min.insync.replicas": str(t.min_insync_replicas)}, t.name


def test_realm_import_is_the_realm_file_with_every_placeholder_from_a_secret() -> None:
    doc = yaml.safe_load((K8S / "base" / "keycloak" / "realm-import.yaml").read_text())
    text = (ROOT / k8s.REALM_FILE).read_text()
    assert doc["spec"]["realm"] == json.loads(text)
    names = set(k8s._PLACEHOLDER.findall(text))
    assert names and set(doc["spec"]["placeholders"]) == names
    for ref in doc["spec"]["placeholders"].values():
        assert set(ref) == {"secret"} and ref["secret"]["name"] == k8s.REALM_SECRET


def test_the_services_given_kafka_settings_are_those_with_a_kafka_user() -> None:
    from dinamis_cli.stack.kafka_acl import services_of

    assert {s.name for s in k8s.CATALOGUE if s.consumes} == set(services_of())
    assert {s.name for s in k8s.CATALOGUE} == set(k8s.SERVICES)
