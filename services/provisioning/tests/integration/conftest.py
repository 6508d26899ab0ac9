"""The provisioning service served in the test's loop on the real Kafka and FerretDB (its own
Kafka namespace and database), a stand-in for the arbitration relay (``service.upstream``), and a
reader of the order events the service publishes (``service.published``)."""

from __future__ import annotations

from dinamis_contracts import arbitration, provisioning
from dinamis_testkit.fixtures import served_service
from provisioning_service.bootstrap import create_app
from provisioning_service.settings import Settings

service = served_service("provisioning", create_app, Settings, publishes=[provisioning.TOPIC],
                         listens_to=arbitration.TOPIC)
