"""A service's topics come from the platform's table, namespaced when stacks share a cluster."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_common.settings import ServiceSettings
from dinamis_contracts import topics


def _runtime(namespace: str = "") -> Runtime:
    return Runtime(ServiceSettings(service_name="arbitration", kafka_namespace=namespace), with_mongo=False,
                   topics=topics)


def test_a_published_topic_is_created_as_the_table_declares_it_under_the_namespace():
    runtime = _runtime("t42.")
    runtime.publishes("arbitration.case.events.v1")
    [spec] = runtime.topic_specs()
    declared = topics.render(topics.by_name()["arbitration.case.events.v1"])
    assert spec == {**declared, "name": "t42.arbitration.case.events.v1"}


def test_an_undeclared_topic_still_gets_created_with_the_broker_defaults(caplog):
    runtime = _runtime()
    runtime.publishes("nobody.declared.this.v1")
    [spec] = runtime.topic_specs()
    assert spec["name"] == "nobody.declared.this.v1" and spec["config"] == {}
    assert "not declared" in caplog.text


def test_the_asyncapi_document_is_served_with_the_namespaced_topics_and_their_event_types():
    from fastapi.testclient import TestClient

    runtime = _runtime("t42.")
    runtime.publishes("arbitration.case.events.v1")
    doc = TestClient(runtime.create_app(title="arbitration")).get("/asyncapi").json()
    channels = doc["channels"]
    assert {c["address"] for c in channels.values()} == {"t42.arbitration.case.events.v1"}
    assert set(channels) == {f"t42.arbitration.case.events.v1:{t}"
                             for t in topics.by_name()["arbitration.case.events.v1"].events}
    assert {"CaseOpenedV1", "DecisionRecordedV1"} <= set(doc["components"]["schemas"])


def test_a_service_without_kafka_serves_an_empty_asyncapi_document():
    from fastapi.testclient import TestClient

    runtime = Runtime(ServiceSettings(service_name="gateway"), with_kafka=False, with_mongo=False)
    doc = TestClient(runtime.create_app(title="gateway")).get("/asyncapi").json()
    assert doc["info"]["title"] == "DINAMIS gateway" and doc["channels"] == {}
