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

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
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
    from catalogue_service.adapters.pgstac import prepare
    from catalogue_service.domain.collections import all_collections
    from dinamis_testkit.archive import ensure_archive_items

    base, _, _ = postgres_dsn.rpartition("/")
    name = f"stac_intake_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{base}/{name}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        prepare(dsn, all_collections())
        ensure_archive_items(dsn)
        yield dsn
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
