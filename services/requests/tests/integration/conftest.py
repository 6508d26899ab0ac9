"""The requests service served in the test's loop on the real Kafka and FerretDB (its own Kafka
namespace and database, ``service.db``), a stand-in for the accounts relay publishing entity
events that also waits until the service has consumed them (``service.upstream``), and a reader of
the request events the service publishes (``service.published``).

A submission asks the catalogue (archive scenes, delivered imagery) and arbitration (the quota) over
HTTP: :func:`intake` serves both beside it, in the same sandbox (the same development key, so the
requester's forwarded token is trusted), the catalogue on a pgstac database of its own holding the
test kit's known Airbus archive scenes, arbitration on a Kafka namespace of its own (it answers the
quota over HTTP; the tests stand in for its case events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from dinamis_contracts import accounts, requests
from dinamis_testkit.service import Sandbox, sandbox
from requests_service.bootstrap import create_app
from requests_service.entrypoints.consumers.accounts import GROUP as ENTITY_GROUP
from requests_service.settings import Settings


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    """The requests service with the catalogue and arbitration it asks served beside it."""
    async with archive_catalogue(servers.postgres_dsn) as dsn, \
            sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
        urls = await serve_dependencies(box, dsn)
        yield await box.serve("requests", create_app, Settings, publishes=[requests.TOPIC],
                              listens_to=accounts.ENTITY_TOPIC, consumed_by=ENTITY_GROUP, **urls)


@asynccontextmanager
async def archive_catalogue(postgres_dsn: str) -> AsyncIterator[str]:
    """A pgstac database of its own holding the test kit's named airbus-archive scenes; its DSN."""
    from dinamis_testkit.archive import ensure_archive_items
    from dinamis_testkit.catalogue import stac_database

    with stac_database(postgres_dsn, "stac_intake") as dsn:
        ensure_archive_items(dsn)
        yield dsn


async def serve_dependencies(box: Sandbox, stac_dsn: str) -> dict[str, Any]:
    """Serves the catalogue and arbitration in ``box``; the requests service's settings pointing at them."""
    from arbitration_service.bootstrap import create_app as arbitration_app
    from arbitration_service.settings import Settings as ArbitrationSettings
    from catalogue_service.bootstrap import create_app as catalogue_app
    from catalogue_service.settings import Settings as CatalogueSettings

    catalogue = await box.serve("catalogue", catalogue_app, CatalogueSettings, postgres_dsn=stac_dsn)
    arbitration = await box.serve("arbitration", arbitration_app, ArbitrationSettings,
                                  kafka_namespace=f"{box.namespace}arb.")
    return {"catalogue_url": catalogue.url, "arbitration_url": arbitration.url}
