"""pystac-client, as a user would drive it, through the gateway: every answer is compared with a
brute-force shapely evaluation of the same query over the generated items (same ids, same order)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from pystac_client import Client
from shapely.geometry import box, shape

pytestmark = pytest.mark.integration


def when(item) -> datetime:
    return datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))


def newest_first(items):
    # pgstac's default order and tiebreaker: datetime descending, then id descending
    return [i["id"] for i in sorted(items, key=lambda i: (when(i), i["id"]), reverse=True)]


async def search(catalogue, **kwargs) -> tuple[list[str], object]:
    def run():
        found = Client.open(catalogue.url).search(**kwargs)
        return [i.id for i in found.items()], found

    return await asyncio.to_thread(run)


async def test_bbox_and_collection_page_by_page_in_date_order(catalogue):
    area = box(-1.0, 46.0, 3.0, 48.5)
    expected = newest_first([i for i in catalogue.items if i["collection"] == "pleiades"
                             and area.intersects(shape(i["geometry"]))])
    ids, _ = await search(catalogue, collections=["pleiades"], bbox=list(area.bounds), limit=17)
    assert len(expected) > 17 * 3  # several pages
    assert ids == expected


async def test_intersects_a_multipolygon(catalogue):
    aoi = {"type": "MultiPolygon", "coordinates": [
        [[[4.5, 43.3], [5.5, 43.3], [5.5, 44.0], [4.5, 44.0], [4.5, 43.3]]],
        [[[-2.0, 47.0], [-1.0, 47.0], [-1.0, 47.6], [-2.0, 47.6], [-2.0, 47.0]]]]}
    expected = newest_first([i for i in catalogue.items if shape(aoi).intersects(shape(i["geometry"]))])
    ids, _ = await search(catalogue, intersects=aoi, limit=100)
    assert expected and ids == expected


async def test_an_aoi_across_the_antimeridian_finds_the_scenes_beside_it(catalogue):
    aoi = {"type": "MultiPolygon", "coordinates": [
        [[[175.0, -16.0], [180.0, -16.0], [180.0, -12.0], [175.0, -12.0], [175.0, -16.0]]],
        [[[-180.0, -16.0], [-175.0, -16.0], [-175.0, -12.0], [-180.0, -12.0], [-180.0, -16.0]]]]}
    expected = newest_first([i for i in catalogue.items if shape(aoi).intersects(shape(i["geometry"]))])
    ids, _ = await search(catalogue, intersects=aoi, limit=100)
    assert expected, "the generator puts Wallis-et-Futuna scenes there"
    assert ids == expected


@pytest.mark.parametrize(("interval", "keep"), [
    ("../2015-12-31T23:59:59Z", lambda t: t <= datetime(2015, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("2024-06-01T00:00:00Z/..", lambda t: t >= datetime(2024, 6, 1, tzinfo=UTC)),
    ("2019-01-01T00:00:00Z/2019-03-31T23:59:59Z",
     lambda t: datetime(2019, 1, 1, tzinfo=UTC) <= t <= datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC)),
])
async def test_datetime_ranges_open_at_either_end(catalogue, interval, keep):
    expected = newest_first([i for i in catalogue.items if i["collection"] == "spot-6-7" and keep(when(i))])
    ids, _ = await search(catalogue, collections=["spot-6-7"], datetime=interval, limit=200)
    assert ids == expected


async def test_a_cql2_text_filter(catalogue):
    expected = newest_first([i for i in catalogue.items if i["properties"]["eo:cloud_cover"] < 10
                             and i["properties"]["platform"] == "spot-7"])
    ids, _ = await search(catalogue, filter="\"eo:cloud_cover\" < 10 AND platform = 'spot-7'",
                          filter_lang="cql2-text", limit=200)
    assert expected and ids == expected


async def test_a_cql2_json_filter_on_two_properties(catalogue):
    flt = {"op": "and", "args": [{"op": ">=", "args": [{"property": "view:incidence_angle"}, 20]},
                                 {"op": "=", "args": [{"property": "constellation"}, "pleiades"]}]}
    expected = newest_first([i for i in catalogue.items if i["properties"]["view:incidence_angle"] >= 20
                             and i["properties"]["constellation"] == "pleiades"])
    ids, _ = await search(catalogue, filter=flt, filter_lang="cql2-json", limit=200)
    assert expected and ids == expected


async def test_sort_by_two_keys(catalogue):
    chosen = [i for i in catalogue.items if i["collection"] == "sentinel-2-l2a"]
    expected = [i["id"] for i in sorted(chosen, key=lambda i: (-i["properties"]["eo:cloud_cover"], when(i)))]
    ids, _ = await search(catalogue, collections=["sentinel-2-l2a"],
                          sortby=[{"field": "properties.eo:cloud_cover", "direction": "desc"},
                                  {"field": "properties.datetime", "direction": "asc"}], limit=150)
    # ties on both keys are ordered by pgstac's id tiebreaker: compare the keys, then the sets
    by_id = {i["id"]: i for i in chosen}
    assert [(by_id[i]["properties"]["eo:cloud_cover"], when(by_id[i])) for i in ids] == \
        [(by_id[i]["properties"]["eo:cloud_cover"], when(by_id[i])) for i in expected]
    assert sorted(ids) == sorted(expected)


async def test_fields_include_and_exclude(catalogue):
    def run():
        search = Client.open(catalogue.url).search(collections=["pleiades"], max_items=5,
                                                    fields={"include": ["properties.eo:cloud_cover"],
                                                            "exclude": ["assets"]})
        return list(search.items_as_dicts())

    found = await asyncio.to_thread(run)
    assert len(found) == 5
    assert all("assets" not in f for f in found)
    assert all(set(f["properties"]) <= {"eo:cloud_cover", "datetime"} for f in found)
    assert all("eo:cloud_cover" in f["properties"] for f in found)


async def test_the_query_extension_with_its_string_operators(catalogue):
    expected = newest_first([i for i in catalogue.items if i["properties"]["platform"].startswith("spot-")
                             and i["properties"]["platform"] in ("spot-1", "spot-7")])
    ids, _ = await search(catalogue, query={"platform": {"startsWith": "spot-", "in": ["spot-1", "spot-7"]}},
                          limit=500)
    assert expected and ids == expected
    ids, _ = await search(catalogue, query={"platform": {"endsWith": "-1b"}, "eo:cloud_cover": {"lt": 3}}, limit=200)
    assert ids == newest_first([i for i in catalogue.items if i["properties"]["platform"].endswith("-1b")
                                and i["properties"]["eo:cloud_cover"] < 3])


async def test_matched_counts_what_brute_force_counts_when_asked(catalogue):
    area = box(0.0, 44.0, 6.0, 49.0)
    expected = [i for i in catalogue.items if area.intersects(shape(i["geometry"]))]
    async with httpx.AsyncClient() as http:
        posted = (await http.post(f"{catalogue.url}/search", json={"bbox": list(area.bounds), "limit": 5,
                                                                   "conf": {"context": "on"}})).json()
        got = (await http.get(f"{catalogue.url}/search", params={"bbox": ",".join(map(str, area.bounds)),
                                                                  "limit": 5, "context": "on"})).json()
        unasked = (await http.post(f"{catalogue.url}/search", json={"bbox": list(area.bounds), "limit": 5})).json()
    assert len(expected) > 5
    assert posted["numberMatched"] == got["numberMatched"] == len(expected)
    # not asked for and not known without counting: left out rather than paid for by every search
    assert "numberMatched" not in unasked and unasked["numberReturned"] == 5


async def test_pystac_client_matched_counts_what_brute_force_counts_when_the_client_asks_for_counts(catalogue):
    area = box(0.0, 44.0, 6.0, 49.0)
    expected = [i for i in catalogue.items if area.intersects(shape(i["geometry"]))]

    def run(method: str):
        client = Client.open(catalogue.url, parameters={"context": "on"})  # counts asked on every call
        return client.search(bbox=list(area.bounds), limit=5, method=method).matched()

    assert len(expected) > 5
    assert await asyncio.to_thread(run, "POST") == await asyncio.to_thread(run, "GET") == len(expected)


async def test_matched_comes_free_when_the_first_page_holds_every_match(catalogue):
    expected = [i for i in catalogue.items if i["collection"] == "spot-6-7" and i["properties"]["eo:cloud_cover"] < 2]

    def run():
        search = Client.open(catalogue.url).search(collections=["spot-6-7"], query={"eo:cloud_cover": {"lt": 2}},
                                                   limit=500)
        return next(search.pages_as_dicts())

    found = await asyncio.to_thread(run)
    assert 0 < len(expected) < 500
    assert found["numberMatched"] == found["numberReturned"] == len(expected)


async def test_a_bad_cql2_expression_says_where_it_fails(catalogue):
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{catalogue.url}/search", params={"filter": "eo:cloud_cover <<< 3"})
    assert response.status_code == 400
    assert "1:17" in response.json()["description"]


async def test_links_are_absolute_and_point_through_the_gateway(catalogue):
    async with httpx.AsyncClient() as http:
        landing = (await http.get(catalogue.url)).json()
        search = next(link for link in landing["links"] if link["rel"] == "search")
        page = (await http.get(search["href"], params={"limit": 2})).json()
    assert search["href"] == f"{catalogue.url}/search" and search["type"] == "application/geo+json"
    nxt = next(link for link in page["links"] if link["rel"] == "next")
    assert nxt["href"].startswith(f"{catalogue.url}/search?")
    assert all(link["href"].startswith(catalogue.url) for f in page["features"] for link in f["links"])
