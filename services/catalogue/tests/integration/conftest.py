"""A catalogue (and the gateway in front of it) on a database of its own, filled with a known set
of generated items, so that every answer can be checked against a brute-force evaluation."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dinamis_testkit.inprocess import InProcessServers, free_port

ITEMS = 3000


@dataclass
class Catalogue:
    url: str  # the STAC API through the gateway
    items: list[dict[str, Any]]
    dsn: str  # its own database, to compare with what pgstac itself answers
    service_url: str  # the catalogue itself
    keys: tuple[Path, Path]  # development signing key and JWKS
    kafka: str
    namespace: str  # its topics' prefix


@pytest.fixture(scope="session")
async def catalogue(servers, tmp_path_factory):
    from catalogue_service.adapters.ingest import ingest
    from catalogue_service.adapters.pgstac import prepare
    from catalogue_service.bootstrap import create_app as catalogue_app
    from catalogue_service.domain.collections import DEFINITIONS, all_collections
    from catalogue_service.domain.demo import generate
    from catalogue_service.settings import Settings as CatalogueSettings
    from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys
    from gateway_service.app import create_app as gateway_app
    from gateway_service.settings import Settings as GatewaySettings

    base, _, _ = servers.postgres_dsn.rpartition("/")
    name = f"stac_it_{uuid.uuid4().hex[:16]}"  # unique: other sessions run these tests on the same server
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{base}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    prepare(dsn, all_collections())
    items = list(generate(ITEMS, seed=7))
    report = ingest(dsn, (json.dumps(i) for i in items), set(DEFINITIONS))
    assert report.added == ITEMS and not report.failed

    keys = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    cport, gport = free_port(), free_port()
    common = {"kafka_bootstrap_servers": servers.kafka, "auth_jwks_url": f"file://{keys[1]}", "auth_issuer": DEV_ISSUER,
              "kafka_namespace": f"{name}."}
    running = InProcessServers()
    await running.start(catalogue_app(CatalogueSettings(**common, postgres_dsn=dsn, http_port=cport)), cport)
    await running.start(gateway_app(GatewaySettings(**common, catalogue_url=f"http://127.0.0.1:{cport}",
                                                    http_port=gport)), gport)
    yield Catalogue(f"http://127.0.0.1:{gport}/stac", items, dsn, f"http://127.0.0.1:{cport}", keys, servers.kafka,
                    f"{name}.")
    await running.stop()
    with psycopg.connect(servers.postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
