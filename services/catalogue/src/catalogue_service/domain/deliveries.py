"""A delivered product entering the shared catalogue: the STAC item provisioning made from the
product's metadata, checked, put in the shared collection of its mission, with that collection's
licence and the request it was ordered for. It is then found by every eligible user's search."""

from __future__ import annotations

from typing import Any

from catalogue_service.domain.collections import DEFINITIONS

SHARED = {"pleiades": "pleiades", "spot-6-7": "spot-6-7"}  # mission -> its shared collection


class InvalidDelivery(ValueError):
    """The delivered item cannot enter the catalogue as it is (the reason says why)."""


def shared_item(item: dict[str, Any], *, mission: str, collection: str, request_id: str,
                order_id: str) -> dict[str, Any]:
    """The item as the catalogue keeps it; raises :class:`InvalidDelivery` saying what is wrong."""
    expected = SHARED.get(mission)
    if expected is None:
        raise InvalidDelivery(f"no shared collection for mission {mission!r}")
    if collection != expected:
        raise InvalidDelivery(f"a {mission} delivery goes to the {expected!r} collection, not {collection!r}")
    if not isinstance(item, dict) or item.get("type") != "Feature" or not isinstance(item.get("id"), str) \
            or not item["id"]:
        raise InvalidDelivery("the delivered item is not a STAC item with an id")
    props = item.get("properties")
    if not isinstance(props, dict) or not props.get("datetime"):
        raise InvalidDelivery(f"item {item['id']} has no acquisition datetime")
    if not isinstance(item.get("geometry"), dict):
        raise InvalidDelivery(f"item {item['id']} has no footprint")
    licence = DEFINITIONS[collection][2]
    return {**item, "collection": collection,
            "properties": {**props, "license": licence, "dinamis:request_id": request_id,
                           "dinamis:order_id": order_id}}
