"""A catalogue (and the gateway in front of it) on a database of its own, filled with a known set
of generated items, so that every answer can be checked against a brute-force evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dinamis_contracts import provisioning
from dinamis_testkit.catalogue import stac_database
from dinamis_testkit.events import Publisher
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.service import sandbox

ITEMS = 3000


@dataclass
class Catalogue:
    url: str  # the STAC API through the gateway
    items: list[dict[str, Any]]
    dsn: str  # its own database, to compare with what pgstac itself answers
    service_url: str  # the catalogue itself
    keys: tuple[Path, Path]  # development signing key and JWKS
    orders: Publisher  # a stand-in for the provisioning relay, publishing order events


@pytest.fixture(scope="session")
async def catalogue(servers, tmp_path_factory):
    from catalogue_service.bootstrap import create_app as catalogue_app
    from catalogue_service.domain.demo import generate
    from catalogue_service.settings import Settings as CatalogueSettings
    from gateway_service.app import create_app as gateway_app
    from gateway_service.settings import Settings as GatewaySettings

    items = list(generate(ITEMS, seed=7))
    with stac_database(servers.postgres_dsn, "stac_it", items) as dsn:
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            gateway_port = free_port()  # the platform's public URL: the catalogue's links lead to the gateway
            served = await box.serve("catalogue", catalogue_app, CatalogueSettings, postgres_dsn=dsn,
                                     public_url=f"http://127.0.0.1:{gateway_port}")
            gateway = await box.serve("gateway", gateway_app, GatewaySettings, catalogue_url=served.url,
                                      http_port=gateway_port, postgres_dsn=servers.postgres_dsn)
            orders = await box.publisher(provisioning.TOPIC)
            yield Catalogue(f"{gateway.url}/stac", items, dsn, served.url, box.keys, orders)
