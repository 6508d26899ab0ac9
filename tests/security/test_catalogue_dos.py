"""Class "one request crashes or freezes a service" (issue 11), in the catalogue: its public, anonymous
STAC search, served by the real catalogue on the real PostgreSQL + pgstac (3,000 demo items).

Before this change: a filter nested a few thousand parentheses deep overflowed the cql2 parser's
stack and killed the process (exit 139: here the test process itself, as the service is served in
it); fields include × exclude lists cost their product per item (seconds of CPU for one call, the
event loop held); the pool had no statement time-out; a database away or a search pgstac refused
was answered 400 with the database's own text. Now every member is bounded before any work (400
naming the limit), a statement is cut after ``POSTGRES_STATEMENT_TIMEOUT_MS`` and a database away
answers 503 with Retry-After, in the STAC error shape and without internal text.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

pytestmark = pytest.mark.integration

ITEMS = 3000
INTERNAL = ("pgstac", "psycopg", "postgres", "sql", "relation", "does not exist", "canceling statement",
            "connection", "traceback", "error:", "context:", "line ")


def no_internal_text(response: httpx.Response) -> None:
    text = response.text.lower()
    assert not [word for word in INTERNAL if word in text], response.text[:500]


class TcpProxy:
    """PostgreSQL as the catalogue reaches it, through a loopback proxy the test can cut (every
    connection dropped, new ones refused) and restore on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        from dinamis_testkit.inprocess import free_port

        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()


@dataclass
class Catalogues:
    normal: str  # the catalogue as configured by default
    tight: str  # the same database, statements cut after 50 ms
    proxied: str  # PostgreSQL reached through a proxy the test cuts
    proxy: TcpProxy
    item: dict[str, Any]


@pytest.fixture(scope="module")
async def catalogues(servers, tmp_path_factory):
    from catalogue_service.bootstrap import create_app
    from catalogue_service.domain.demo import generate
    from catalogue_service.settings import Settings
    from dinamis_testkit.catalogue import stac_database
    from dinamis_testkit.service import sandbox

    items = list(generate(ITEMS, seed=11))
    with stac_database(servers.postgres_dsn, "sec_dos", items) as dsn:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        proxy = TcpProxy(info.get("host") or "127.0.0.1", int(info.get("port") or 5432))
        await proxy.start()
        proxied_dsn = psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=proxy.port)
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            normal = await box.serve("catalogue", create_app, Settings, postgres_dsn=dsn)
            tight = await box.serve("catalogue", create_app, Settings, postgres_dsn=dsn,
                                    postgres_statement_timeout_ms=50)
            proxied = await box.serve("catalogue", create_app, Settings, postgres_dsn=proxied_dsn,
                                      postgres_pool_timeout_seconds=1.0, postgres_connect_timeout_seconds=1,
                                      retry_after_seconds=3)
            yield Catalogues(normal.url, tight.url, proxied.url, proxy, items[0])
            await proxy.cut()


async def still_answers(url: str, item: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=15) as http:
        assert (await http.get("/healthz")).status_code == 200
        found = await http.post("/stac/search", json={"ids": [item["id"]], "collections": [item["collection"]]})
    assert found.status_code == 200 and [f["id"] for f in found.json()["features"]] == [item["id"]]


def refused(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 400, response.text[:500]
    body = response.json()
    assert body["code"] == "BadRequest" and limit in body["description"], body
    no_internal_text(response)


async def test_a_deeply_nested_filter_is_refused_and_the_catalogue_still_answers(catalogues):
    deep_text = "(" * 5000 + "eo:cloud_cover < 10" + ")" * 5000  # killed the process before (exit 139)
    chains = ["NOT " * 4500 + "eo:cloud_cover < 10", "eo:cloud_cover < " + "-" * 12_000 + "1"]
    # 400 levels (800 of objects and arrays): within orjson's nesting limit, so the catalogue's own
    # bound must refuse it
    deep_json = '{"op":"not","args":[' * 400 + '{"op":"<","args":[{"property":"eo:cloud_cover"},10]}' + "]}" * 400
    async with httpx.AsyncClient(base_url=catalogues.normal, timeout=30) as http:
        started = time.perf_counter()
        refused(await http.get("/stac/search", params={"filter": deep_text}), "filter_max_depth")
        refused(await http.post("/stac/search", json={"filter": deep_text}), "filter_max_depth")
        for chain in chains:
            refused(await http.post("/stac/search", json={"filter": chain}), "filter_max_nodes")
        refused(await http.post("/stac/search", content=f'{{"filter": {deep_json}}}',
                                headers={"content-type": "application/json"}), "filter_max_depth")
        refused(await http.get("/stac/search", params={"filter": deep_json, "filter-lang": "cql2-json"}),
                "filter_max_depth")
        assert time.perf_counter() - started < 5
        ok = await http.get("/stac/search", params={"filter": "((eo:cloud_cover < 10) AND NOT (eo:cloud_cover < 2))"})
    assert ok.status_code == 200 and ok.json()["features"]
    await still_answers(catalogues.normal, catalogues.item)


async def test_huge_fields_sortby_ids_and_geometry_are_refused_before_work(catalogues):
    include = [f"properties.p{i}" for i in range(1000)]
    exclude = [f"properties.q{i}" for i in range(1000)]
    crossing = {"type": "Polygon", "coordinates": [[[x / 1000, (x % 2) * 0.01] for x in range(20_000)] + [[0, 0]]]}
    async with httpx.AsyncClient(base_url=catalogues.normal, timeout=120) as http:
        started = time.perf_counter()  # the product of these lists cost seconds of CPU per page before
        fields = {"include": include, "exclude": exclude}
        refused(await http.post("/stac/search", json={"limit": 100, "fields": fields}), "fields_max")
        listed = ",".join(include[:300] + ["-" + e for e in exclude[:200]])
        refused(await http.get("/stac/search", params={"limit": 100, "fields": listed}), "fields_max")
        refused(await http.post("/stac/search", json={"sortby": [{"field": f"p{i}"} for i in range(500)]}),
                "sortby_max")
        refused(await http.post("/stac/search", json={"ids": [str(i) for i in range(20_000)]}), "ids_max")
        refused(await http.post("/stac/search", json={"collections": ["x" * 5000]}), "collection_max_chars")
        refused(await http.post("/stac/search", json={"intersects": crossing}), "geometry_max_vertices")
        refused(await http.get("/stac/search", params={"token": "next:" + "0" * 8000}), "paging token")
        refused(await http.get("/stac/search", params={"bbox": "0,0,1," + "9" * 400}), "finite")
        refused(await http.post("/stac/search", json={"intersects": {"type": "Point", "coordinates": [1e308, 0],
                                                                      "crs": {"type": "name"}}}), "crs")
        assert time.perf_counter() - started < 5
    await still_answers(catalogues.normal, catalogues.item)


async def test_a_search_pgstac_cannot_evaluate_is_400_without_its_text(catalogues):
    async with httpx.AsyncClient(base_url=catalogues.normal, timeout=30) as http:
        response = await http.get("/stac/search", params={"filter": "nosuchfunction(eo:cloud_cover) = 1"})
        token = await http.get("/stac/search", params={"token": "next:" + b"pleiades".hex() + ":" + b"nope".hex()})
    for answer in (response, token):
        assert answer.status_code == 400 and answer.json()["code"] == "BadRequest", answer.text[:500]
        no_internal_text(answer)
        assert "nosuchfunction" not in answer.text and "nope" not in answer.text


async def test_a_search_longer_than_the_statement_timeout_answers_503_and_retry_after(catalogues):
    expensive = {"limit": 1000, "conf": {"context": "on"}, "sortby": [{"field": "properties.title"}],
                 "filter": " OR ".join(f"id LIKE '%{i}%{i}%{i}%'" for i in range(240))}
    async with httpx.AsyncClient(base_url=catalogues.tight, timeout=30) as http:
        started = time.perf_counter()
        response = await http.post("/stac/search", params={"context": "on"}, json=expensive)
        elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.text[:500]
    assert response.json()["code"] == "SearchTimeout" and int(response.headers["retry-after"]) >= 1
    assert "narrow" in response.json()["description"]
    no_internal_text(response)
    assert elapsed < 5
    for _ in range(5):  # the pool's connections survive the cut statement; a cheap search still passes
        with contextlib.suppress(AssertionError):
            await still_answers(catalogues.tight, catalogues.item)
            break
        await asyncio.sleep(0.5)
    else:
        await still_answers(catalogues.tight, catalogues.item)


async def test_a_database_outage_answers_503_with_retry_after_and_recovers(catalogues):
    await still_answers(catalogues.proxied, catalogues.item)
    await catalogues.proxy.cut()
    try:
        async with httpx.AsyncClient(base_url=catalogues.proxied, timeout=30) as http:
            for _ in range(3):  # connections dropped under the pool, then no new one possible
                for call in (http.get("/stac/search", params={"limit": 1}), http.post("/stac/search", json={}),
                             http.get("/stac"), http.get("/stac/collections"),
                             http.get(f"/stac/collections/{catalogues.item['collection']}/items/x")):
                    started = time.perf_counter()
                    response = await call
                    assert time.perf_counter() - started < 5  # the pool's time-out (1 s here), never a hang
                    assert response.status_code == 503, response.text[:500]
                    assert response.headers["retry-after"] == "3"
                    assert response.json()["code"] == "ServiceUnavailable"
                    no_internal_text(response)
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await catalogues.proxy.start()
    deadline = time.monotonic() + 30
    while True:  # back once PostgreSQL is: the pool reconnects by itself
        try:
            await still_answers(catalogues.proxied, catalogues.item)
            break
        except (AssertionError, httpx.HTTPError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
