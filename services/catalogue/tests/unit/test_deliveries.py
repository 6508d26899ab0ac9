"""A delivered product enters the shared collection of its mission with that collection's licence and
its origin; one that cannot (another mission's collection, no datetime, no footprint) says why."""

from __future__ import annotations

import pytest
from catalogue_service.domain.deliveries import InvalidDelivery, shared_item

ITEM = {"type": "Feature", "id": "SPOT7-1", "geometry": {"type": "Point", "coordinates": [3.0, 44.0]},
        "properties": {"datetime": "2026-06-01T10:30:00Z"}, "assets": {}}


def test_the_item_joins_its_missions_shared_collection_with_licence_and_origin():
    item = shared_item(ITEM, mission="spot-6-7", collection="spot-6-7", request_id="r1", order_id="o1")
    assert (item["collection"], item["properties"]["license"], item["properties"]["dinamis:request_id"],
            item["properties"]["dinamis:order_id"]) == ("spot-6-7", "proprietary", "r1", "o1")
    assert item["properties"]["datetime"] == ITEM["properties"]["datetime"] and "license" not in ITEM["properties"]


@pytest.mark.parametrize(("item", "mission", "collection", "words"), [
    (ITEM, "spot-6-7", "pleiades", "a spot-6-7 delivery goes to the 'spot-6-7' collection, not 'pleiades'"),
    (ITEM, "sentinel-2", "sentinel-2-l2a", "no shared collection for mission 'sentinel-2'"),
    ({**ITEM, "properties": {}}, "spot-6-7", "spot-6-7", "item SPOT7-1 has no acquisition datetime"),
    ({**ITEM, "geometry": None}, "spot-6-7", "spot-6-7", "item SPOT7-1 has no footprint"),
    ({"id": "x"}, "spot-6-7", "spot-6-7", "not a STAC item"),
])
def test_a_delivery_that_cannot_enter_says_why(item, mission, collection, words):
    with pytest.raises(InvalidDelivery, match=words):
        shared_item(item, mission=mission, collection=collection, request_id="r1", order_id="o1")
