"""Class "trust in headers" (issue 11): public links come from configuration (PUBLIC_URL); a forged
``Host``, ``X-Forwarded-Host``, ``X-Forwarded-Proto`` or ``Forwarded`` changes no STAC link, through
the gateway or straight at the catalogue; the gateway forwards none of them, and a local process's
forged ``X-Forwarded-For`` changes neither the address it is counted as nor the one the services
record. Before this change the catalogue built every link from the request's Host (which the gateway
forwarded) and uvicorn believed X-Forwarded-* from any local process."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration

PUBLIC = "https://dinamis.example.test"
FORGED = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "gopher",
          "x-forwarded-port": "6666", "x-forwarded-prefix": "/evil", "forwarded": "host=evil.example;proto=http",
          "x-real-ip": "10.6.6.6", "x-forwarded-for": "10.6.6.6"}


def hrefs(document) -> list[str]:
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found += [value] if key == "href" and isinstance(value, str) else hrefs(value)
    elif isinstance(document, list):
        for value in document:
            found += hrefs(value)
    return found


@pytest.fixture(scope="module")
async def catalogue(servers, tmp_path_factory):
    """The real catalogue on a PostgreSQL database of its own, told the platform's public URL."""
    from catalogue_service.bootstrap import create_app
    from catalogue_service.settings import Settings
    from dinamis_testkit.catalogue import stac_database
    from dinamis_testkit.service import sandbox

    with stac_database(servers.postgres_dsn, "sec_hosts", prepared=False) as dsn:
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            yield await box.serve("catalogue", create_app, Settings, postgres_dsn=dsn, public_url=PUBLIC)


async def stac_links(base: str, headers: dict[str, str]) -> list[str]:
    found = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for path in ("/stac", "/stac/collections", "/stac/search?limit=1"):
            response = await http.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            found += hrefs(response.json())
    return found


@pytest.mark.parametrize("forged", [{}, FORGED, {"host": "evil.example"}, {"x-forwarded-host": "evil.example",
                                                                             "x-forwarded-proto": "http"}])
async def test_no_forged_header_changes_a_stac_link_through_the_gateway_or_at_the_catalogue(catalogue, gateways,
                                                                                            forged):
    async with gateways(replicas=1, catalogue_url=catalogue.url, public_url=PUBLIC) as gw:
        for base in (gw.urls[0], catalogue.url):
            links = await stac_links(base, forged)
            assert links, base
            own = [h for h in links if not h.startswith("http://www.opengis.net")]
            assert all(h.startswith(PUBLIC + "/stac") for h in own), (base, forged, own)
            assert all("evil" not in h and "gopher" not in h for h in links)


async def test_the_gateway_forwards_its_own_origin_and_the_peer_address_never_the_callers_claims(gateways):
    async with gateways(replicas=1, public_url=PUBLIC) as gw, gw.client() as api:
        assert (await api.get("/api/accounts/public/documents", headers=FORGED)).status_code == 200
        got = gw.upstream.seen[-1]["headers"]
        assert got["host"] == urlsplit(gw.upstream.url).netloc  # the service's own address
        assert got["x-forwarded-host"] == "dinamis.example.test" and got["x-forwarded-proto"] == "https"
        assert got["x-forwarded-for"] == "127.0.0.1"  # the recorded origin is the peer, not 10.6.6.6
        assert not {"forwarded", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"} & set(got)


async def test_a_local_process_cannot_pick_the_address_it_is_counted_as(gateways):
    """No trusted proxy by default: X-Forwarded-For from 127.0.0.1 is not believed (uvicorn's own
    default believed it), so a new claimed address per call does not escape the limit."""
    async with gateways(replicas=1, rate_limit_ip=3) as gw:
        statuses = []
        for i in range(4):
            async with gw.client(client_ip=f"198.51.100.{i}") as api:
                statuses.append((await api.get("/stac")).status_code)
        assert statuses == [200, 200, 200, 429]
        assert {c["headers"]["x-forwarded-for"] for c in gw.upstream.seen} == {"127.0.0.1"}


async def test_a_configured_proxy_is_believed(gateways):
    async with gateways(replicas=1, rate_limit_ip=3, forwarded_allow_ips="127.0.0.1") as gw:
        for i in range(4):
            async with gw.client(client_ip=f"198.51.100.{i}") as api:
                assert (await api.get("/stac")).status_code == 200
        assert gw.upstream.seen[-1]["headers"]["x-forwarded-for"] == "198.51.100.3"
