"""The requests service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database, ``service.db``), a stand-in for the accounts relay publishing entity
events that also waits until the service has consumed them (``service.upstream``), and a reader of
the request events the service publishes (``service.published``)."""

from __future__ import annotations

from dinamis_contracts import accounts, requests
from dinamis_testkit.fixtures import served_service
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.accounts import GROUP as ENTITY_GROUP
from requests_service.settings import Settings

service = served_service("requests", create_app, Settings, publishes=[requests.TOPIC],
                         listens_to=accounts.ENTITY_TOPIC, consumed_by=ENTITY_GROUP)
