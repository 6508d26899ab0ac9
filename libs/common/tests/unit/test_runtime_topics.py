"""A service's topics come from the platform's table, namespaced when stacks share a cluster."""

from __future__ import annotations

from dinamis_common.runtime import Runtime
from dinamis_common.settings import ServiceSettings
from dinamis_contracts import topics


def _runtime(namespace: str = "") -> Runtime:
    return Runtime(ServiceSettings(service_name="arbitration", kafka_namespace=namespace), with_mongo=False)


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
