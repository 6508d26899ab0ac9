"""The entity read model in MongoDB: one document per entity in this service's ``entities``
collection, the newest snapshot received from the accounts events.

A snapshot is kept only if its version is higher than the stored one, in one conditional
upsert (no transaction): a duplicate or an older event delivered late matches nothing, its
insert collides on ``_id`` and changes nothing. Writes to one entity are serialized in the
process (``write_lock``), because FerretDB applies a conditional update in two steps and lets
concurrent writers all win (measured: the newest of 8 concurrent versions lost in 15 of 20
trials without it); MongoDB's guard is atomic across replicas. Lookups are by ``_id`` only, so
the collection needs no index of its own.
"""

from __future__ import annotations

from typing import Any

from dinamis_common.messaging.outbox import write_lock
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from requests_service.domain.entities import Entity


class MongoEntityDirectory:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def get(self, entity_id: str) -> Entity | None:
        doc = await self.collection.find_one({"_id": entity_id})
        return _entity(doc) if doc else None

    async def apply(self, entity: Entity) -> bool:
        newer = {"_id": entity.entity_id, "version": {"$lt": entity.version}}
        change = {"$set": _fields(entity)}
        async with write_lock(self.collection, entity.entity_id):
            try:
                result = await self.collection.update_one(newer, change, upsert=True)
            except DuplicateKeyError:
                # there with this version or a newer one — or another replica's first insert won
                # the race with an older one: a plain conditional update settles which
                result = await self.collection.update_one(newer, change)
        return result.upserted_id is not None or result.modified_count == 1


def _fields(e: Entity) -> dict[str, Any]:
    return {"name": e.name, "kind": e.kind, "status": e.status,
            "eligible_missions": sorted(e.eligible_missions), "version": e.version}


def _entity(doc: dict[str, Any]) -> Entity:
    return Entity(entity_id=doc["_id"], name=doc["name"], kind=doc["kind"], status=doc["status"],
                  eligible_missions=frozenset(doc["eligible_missions"]), version=doc["version"])
