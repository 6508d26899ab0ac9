"""Overlap offers against a real catalogue service (pgstac on the real PostgreSQL, served over HTTP)
and the pending-tasking index on the real FerretDB: the delivered images offered are those of the
mission over the area within the tasking's constraints, ranked by coverage then recency, next to the
pending taskings to join; a catalogue that does not answer is an outage (503), not an empty offer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_common.mongo import make_mongo_client
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.service import sandbox
from requests_service.adapters.catalogue import HttpCatalogue
from requests_service.adapters.tasking_index import MongoTaskingIndex
from requests_service.domain.errors import UpstreamUnavailable
from requests_service.domain.offers import area_km2
from requests_service.domain.spec import RequestSpec, Scene, Tasking
from requests_service.service_layer.context import Requests
from requests_service.service_layer.offers import find_offers
from requests_service.service_layer.ports import PendingTasking
from shapely.geometry import shape

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
WINDOW = NOW + timedelta(days=10)
LON, LAT = 6.1, 44.3  # the area asked for, a 10 km square
DLON = 10 / (111.32 * math.cos(math.radians(LAT)))


def square(lon: float, lat: float, km: float) -> dict:
    dlat = km / 111.32
    dlon = km / (111.32 * math.cos(math.radians(lat)))
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat],
                                                [lon, lat + dlat], [lon, lat]]]}


def item(item_id: str, collection: str, geometry: dict, when: datetime, cloud: float, incidence: float) -> dict:
    ring = geometry["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return {"type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": item_id,
            "collection": collection, "geometry": geometry, "bbox": [min(xs), min(ys), max(xs), max(ys)],
            "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), "eo:cloud_cover": cloud,
                           "view:incidence_angle": incidence, "platform": "pleiades-1a"},
            "assets": {}, "links": []}


COVERING = square(LON - 0.05, LAT - 0.05, 30)
ITEMS = [
    item("pleiades-recent-full", "pleiades", COVERING, NOW - timedelta(days=20), 5, 10),
    item("pleiades-older-full", "pleiades", COVERING, NOW - timedelta(days=200), 10, 12),
    item("pleiades-recent-half", "pleiades", square(LON + DLON / 2, LAT - 0.05, 30), NOW - timedelta(days=2), 1, 5),
    item("pleiades-cloudy", "pleiades", COVERING, NOW - timedelta(days=30), 70, 10),
    item("pleiades-steep", "pleiades", COVERING, NOW - timedelta(days=30), 5, 40),
    item("pleiades-too-old", "pleiades", COVERING, NOW - timedelta(days=500), 5, 10),
    item("pleiades-elsewhere", "pleiades", square(2.0, 48.0, 20), NOW - timedelta(days=20), 5, 10),
    item("spot-recent-full", "spot-6-7", COVERING, NOW - timedelta(days=20), 5, 10),
    item("archive-recent-full", "airbus-archive", COVERING, NOW - timedelta(days=20), 5, 10),
]


@pytest.fixture(scope="module")
async def catalogue(servers, tmp_path_factory):
    from catalogue_service.bootstrap import create_app
    from catalogue_service.domain.demo import generate
    from catalogue_service.settings import Settings
    from dinamis_testkit.catalogue import stac_database

    with stac_database(servers.postgres_dsn, "stac_offers", [*ITEMS, *generate(500, seed=11)]) as dsn:
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            served = await box.serve("catalogue", create_app, Settings, postgres_dsn=dsn)
            client = HttpCatalogue(served.url, timeout=10)
            yield client
            await client.close()


@pytest.fixture
async def index(servers, unique):
    client = make_mongo_client(servers.mongodb_uri, "tests")
    db = client[f"t{unique}_offers"]
    found = MongoTaskingIndex(db["pending_taskings"], db["pending_tasking_removals"])
    await found.ensure_indexes()
    yield found
    await client.drop_database(db.name)
    await client.close()


def tasking(mission: str = "pleiades") -> RequestSpec:
    aoi = square(LON, LAT, 10)
    return RequestSpec(kind="tasking", title="Alpine lakes", mission=mission, justification="survey", aoi=aoi,
                       area_km2=area_km2(shape(aoi)),
                       tasking=Tasking(WINDOW, WINDOW + timedelta(days=30), max_cloud_cover=20,
                                       max_incidence_angle=30))


async def test_the_catalogue_answers_the_missions_delivered_images_within_the_limits(catalogue):
    found = await catalogue.delivered_covering("pleiades", square(LON, LAT, 10), WINDOW - timedelta(days=365),
                                               WINDOW, 20, 30, 50)
    assert {f["id"] for f in found} == {"pleiades-recent-full", "pleiades-older-full", "pleiades-recent-half"}
    assert {f["collection"] for f in found} == {"pleiades"} and "assets" not in found[0]


async def test_find_offers_end_to_end(catalogue, index):
    spec = tasking()
    joinable = PendingTasking("req-joinable", "pleiades", "stereo", square(LON + DLON / 2, LAT, 10),
                              WINDOW + timedelta(days=20), WINDOW + timedelta(days=50))
    too_late = PendingTasking("req-too-late", "pleiades", "mono", spec.aoi, WINDOW + timedelta(days=31),
                              WINDOW + timedelta(days=60))
    other_mission = PendingTasking("req-spot", "spot-6-7", "mono", spec.aoi, WINDOW, WINDOW + timedelta(days=9))
    for p in (joinable, too_late, other_mission):
        await index.add(p)
    ctx = Requests(requests=None, entities=None, clock=lambda: NOW, catalogue=catalogue, tasking_index=index)
    offers = await find_offers(ctx, spec, exclude="req-self")
    assert [o.item_id for o in offers.delivered] == ["pleiades-recent-full", "pleiades-older-full",
                                                     "pleiades-recent-half"]
    assert offers.delivered[0].coverage == 1.0 and offers.delivered[2].coverage == pytest.approx(0.5, abs=0.03)
    assert offers.delivered[0].cloud_cover == 5 and offers.delivered[0].incidence_angle == 10
    assert [(o.request_id, o.mode) for o in offers.join] == [("req-joinable", "stereo")]
    assert offers.join[0].overlap_km2 == pytest.approx(50, rel=0.03)


async def test_an_archive_request_is_offered_any_delivered_image_over_its_scenes(catalogue, index):
    aoi = square(LON, LAT, 10)
    spec = RequestSpec(kind="archive", title="Alpine lakes", mission="spot-6-7", justification="survey", aoi=aoi,
                       area_km2=100, scenes=(Scene("archive-recent-full", aoi, 100),))
    ctx = Requests(requests=None, entities=None, clock=lambda: NOW, catalogue=catalogue, tasking_index=index)
    offers = await find_offers(ctx, spec)
    assert [o.item_id for o in offers.delivered] == ["spot-recent-full"] and offers.join == ()


async def test_a_catalogue_that_does_not_answer_is_an_outage():
    down = HttpCatalogue(f"http://127.0.0.1:{free_port()}", timeout=2)
    ctx = Requests(requests=None, entities=None, clock=lambda: NOW, catalogue=down)
    with pytest.raises(UpstreamUnavailable, match="did not answer"):
        await find_offers(ctx, tasking())
    await down.close()
