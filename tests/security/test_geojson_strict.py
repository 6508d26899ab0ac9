"""Free-form input into storage and events (issue 11): an area of interest is read strictly as RFC 7946
GeoJSON by the requests service served on the real Kafka and FerretDB, with the real catalogue (pgstac)
and arbitration beside it. Each refusal is a 422 problem saying what to change (never 500 or 502), stores
nothing; an accepted area is kept as ``{type, coordinates}`` only, and an area split at the antimeridian
is measured as the sum of its sides.

Before this change: ``NaN`` answered 500, a 400-digit coordinate 500 (502 through the gateway), an unclosed
ring was closed silently and stored, a ``crs`` member was refused as an 'extra input' and a ring across the
antimeridian was accepted and measured the short way round here while the tasking index read it planar."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_contracts import accounts, requests
from dinamis_testkit.archive import square, tasking_request
from dinamis_testkit.catalogue import stac_database
from dinamis_testkit.service import sandbox

pytestmark = pytest.mark.integration

MARK = 3.912345  # a coordinate of the body replaced by raw JSON text (NaN, Infinity, 400 digits)


@pytest.fixture(scope="module")
async def service(servers, tmp_path_factory):
    from arbitration_service.bootstrap import create_app as arbitration_app
    from arbitration_service.settings import Settings as ArbitrationSettings
    from catalogue_service.bootstrap import create_app as catalogue_app
    from catalogue_service.settings import Settings as CatalogueSettings
    from requests_service.bootstrap import create_app
    from requests_service.entrypoints.consumers.accounts import GROUP
    from requests_service.settings import Settings

    with stac_database(servers.postgres_dsn, "stac_geojson") as dsn:
        async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
            catalogue = await box.serve("catalogue", catalogue_app, CatalogueSettings, postgres_dsn=dsn)
            arbitration = await box.serve("arbitration", arbitration_app, ArbitrationSettings,
                                          kafka_namespace=f"{box.namespace}arb.")
            served = await box.serve("requests", create_app, Settings, publishes=[requests.TOPIC],
                                     listens_to=accounts.ENTITY_TOPIC, consumed_by=GROUP,
                                     catalogue_url=catalogue.url, arbitration_url=arbitration.url)
            ent = f"ent-{uuid.uuid4().hex[:8]}"
            approved = accounts.EntityApprovedV1(
                entity_id=ent, name="Laboratoire des îles", category="research-education", kind="scientific",
                country="FR", status="approved", eligible_missions=["pleiades", "spot-6-7"], version=1,
                approved_by="admin-1", approved_at=datetime.now(UTC), certificate_serial="01")
            await served.upstream.publish(CloudEvent(type=accounts.ENTITY_APPROVED, source=accounts.SOURCE, subject=ent,
                                                     data=approved.model_dump(mode="json")))
            await served.upstream.consumed()
            served.entity = ent
            yield served


def with_raw(body: dict, raw: str) -> bytes:
    text = json.dumps(body)
    assert str(MARK) in text
    return text.replace(str(MARK), raw, 1).encode()


def marked() -> dict:
    aoi = square(3.8, 43.6, 10)
    aoi["coordinates"][0][2][0] = MARK
    return tasking_request(aoi)


def ring(*points) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


SQUARE = square(3.8, 43.6, 10)
UNCLOSED = {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0][:-1]]}
ACROSS = ring((179.95, -17.0), (-179.95, -17.0), (-179.95, -16.9), (179.95, -16.9), (179.95, -17.0))
REFUSED = [
    (with_raw(marked(), "NaN"), "NaN is not a JSON number"),
    (with_raw(marked(), "Infinity"), "Infinity is not a JSON number"),
    (with_raw(marked(), "1e400"), "too large for a number"),
    (with_raw(marked(), "9" * 400), "a number written with 400 characters"),
    (json.dumps(tasking_request(SQUARE | {"crs": {"type": "name", "properties": {"name": "EPSG:2154"}}})).encode(),
     "remove crs and give the coordinates in WGS 84"),
    (json.dumps(tasking_request(SQUARE | {"properties": {"owner": "x"}})).encode(), "aoi.properties"),
    (json.dumps(tasking_request(UNCLOSED)).encode(), "is not closed"),
    (json.dumps(tasking_request(ACROSS)).encode(), "crosses the antimeridian"),
    (json.dumps(tasking_request(ring((3.8, 43.6), (3.9, 43.6), (3.9, 43.7), (3.8, 200), (3.8, 43.6)))).encode(),
     "latitude in [-90, 90]"),
]


@pytest.mark.parametrize(("body", "says"), REFUSED, ids=[s[:24] for _, s in REFUSED])
async def test_a_non_rfc7946_area_is_refused_with_422_saying_why_and_nothing_is_stored(service, body, says):
    before = await service.db["requests"].count_documents({})
    async with service.client(user="ana", entity=service.entity, category="scientific") as api:
        for path in ("/api/requests/quotes", "/api/requests"):
            refused = await api.post(path, content=body, headers={"content-type": "application/json"})
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert says in refused.json()["detail"], refused.text
    assert await service.db["requests"].count_documents({}) == before


async def test_an_accepted_area_is_kept_as_type_and_coordinates_only(service):
    aoi = {"type": "Polygon", "bbox": [3.8, 43.6, 3.93, 43.69],
           "coordinates": [[[*p, 120.0] for p in SQUARE["coordinates"][0]]]}
    async with service.client(user="ana", entity=service.entity, category="scientific") as api:
        created = await api.post("/api/requests", json=tasking_request(aoi, title="Strict area"))
        assert created.status_code == 201, created.text
        shown = created.json()
    assert set(shown["aoi"]) == {"type", "coordinates"}
    assert all(len(p) == 2 for p in shown["aoi"]["coordinates"][0])
    stored = (await service.db["requests"].find_one({"_id": shown["id"]}))["aoi"]
    stored = json.loads(stored) if isinstance(stored, str) else stored  # kept as JSON text: FerretDB nests no arrays
    assert set(stored) == {"type", "coordinates"} and all(len(p) == 2 for p in stored["coordinates"][0])


async def test_an_area_split_at_the_antimeridian_is_the_sum_of_its_sides(service):
    west = [[179.9, -17.0], [180.0, -17.0], [180.0, -16.9], [179.9, -16.9], [179.9, -17.0]]
    east = [[-180.0, -17.0], [-179.9, -17.0], [-179.9, -16.9], [-180.0, -16.9], [-180.0, -17.0]]
    async with service.client(user="ana", entity=service.entity, category="scientific") as api:
        one = await api.post("/api/requests/quotes", json=tasking_request({"type": "Polygon", "coordinates": [west]}))
        both = await api.post("/api/requests/quotes", json=tasking_request(
            {"type": "MultiPolygon", "coordinates": [[west], [east]]}))
    assert one.status_code == 200 and both.status_code == 200, (one.text, both.text)
    side, total = one.json()["area_km2"], both.json()["area_km2"]
    assert 100 < side < 130 and total == pytest.approx(2 * side, rel=1e-3)  # 0.1° × 0.1° at 17° S: about 118 km²
