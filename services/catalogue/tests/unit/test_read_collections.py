"""``dinamis catalogue ingest --collections``: what is accepted, and what a mistake says."""

import pytest
from catalogue_service.domain.collections import collection, read_collections


def test_one_a_list_or_a_page_of_collections():
    one = collection("pleiades")
    assert read_collections(one) == [one]
    assert read_collections([one, collection("spot-6-7")])[1]["id"] == "spot-6-7"
    assert read_collections({"collections": [one]}) == [one]


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "Feature"}, "collection #2: not a STAC collection"),
    ({"id": ""}, "id must be a non-empty string"),
    ({"license": None}, "(pleiades): license is required"),
    ({"extent": {"spatial": {"bbox": [1, 2, 3, 4]}, "temporal": {"interval": [[None, None]]}}}, "extent.spatial.bbox"),
    ({"extent": {"spatial": {"bbox": [[1, 2, 3, 4]]}, "temporal": {}}}, "extent.temporal.interval"),
])
def test_a_wrong_collection_is_named_with_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_collections([collection("spot-6-7"), {**collection("pleiades"), **change}])
