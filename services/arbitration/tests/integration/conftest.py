"""The arbitration service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database), a stand-in for the requests relay (``service.upstream``), and a reader of
the case events the service publishes (``service.published``)."""

from __future__ import annotations

from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_contracts import arbitration, requests
from dinamis_testkit.fixtures import served_service

AUTO_ACCEPT_MAX_KM2 = 100.0

service = served_service("arbitration", create_app, Settings, publishes=[arbitration.TOPIC],
                         listens_to=requests.TOPIC, arbitration_auto_accept_max_km2=AUTO_ACCEPT_MAX_KM2)
