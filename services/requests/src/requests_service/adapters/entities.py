"""The entity read model in MongoDB: the newest snapshot of each entity received from the accounts
events, in this service's ``entities`` collection.

Each snapshot is **inserted** as its own document, ``_id = "<entity>:<version>"``: a duplicate or
a replayed event collides on that key and changes nothing, and no replica can overwrite a newer
snapshot with an older one, because nothing is ever updated in place. (FerretDB evaluates a
guarded update and applies it in two steps, so "replace if newer" lets concurrent writers lose
the newest; a unique key is enforced by PostgreSQL.) A reader takes the highest version; older
snapshots are deleted after a newer one is stored, so an entity keeps one or two documents.
Lookups are by ``entity_id`` equality (pushed down to PostgreSQL by FerretDB).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from requests_service.domain.entities import Entity


class MongoEntityDirectory:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("entity_id", ASCENDING)], name="entity_id")
        # snapshots stored before this layout (one document per entity, updated in place)
        async for old in self.collection.find({"entity_id": {"$exists": False}}):
            entity = Entity(entity_id=old["_id"], name=old["name"], kind=old["kind"], status=old["status"],
                            eligible_missions=frozenset(old["eligible_missions"]), version=old["version"])
            await self.apply(entity)
            await self.collection.delete_one({"_id": old["_id"], "entity_id": {"$exists": False}})

    async def get(self, entity_id: str) -> Entity | None:
        docs = await self.collection.find({"entity_id": entity_id}).to_list()
        newest = max(docs, key=lambda d: d["version"], default=None)
        return _entity(newest) if newest else None

    async def apply(self, entity: Entity) -> bool:
        """Keep this snapshot unless it is one already seen; ``True`` if it is now the newest."""
        try:
            await self.collection.insert_one({"_id": f"{entity.entity_id}:{entity.version}", **_fields(entity)})
        except DuplicateKeyError:
            return False
        await self.collection.delete_many({"entity_id": entity.entity_id, "version": {"$lt": entity.version}})
        newest = await self.get(entity.entity_id)
        return newest is not None and newest.version == entity.version


def _fields(e: Entity) -> dict[str, Any]:
    return {"entity_id": e.entity_id, "name": e.name, "kind": e.kind, "status": e.status,
            "eligible_missions": sorted(e.eligible_missions), "version": e.version}


def _entity(doc: dict[str, Any]) -> Entity:
    return Entity(entity_id=doc["entity_id"], name=doc["name"], kind=doc["kind"], status=doc["status"],
                  eligible_missions=frozenset(doc["eligible_missions"]), version=doc["version"])
