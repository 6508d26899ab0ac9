"""Prepaid packages in MongoDB (collection ``packages``): ``_id`` = the package id derived from the
entity and the purchase reference, so registering the same purchase twice, on any replica, inserts
one document (a unique ``_id`` is atomic on FerretDB too). Amounts are integer cents and m² (FerretDB
refuses Decimal128). An entity's packages are read by ``entity_id`` equality (pushed down)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from arbitration_service.domain.ledger import to_km2, to_m2
from arbitration_service.domain.packages import Package


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def to_doc(p: Package) -> dict[str, Any]:
    return {"_id": p.package_id, "entity_id": p.entity_id, "mission": p.mission, "m2": to_m2(p.km2),
            "amount_cents": p.amount_cents, "expires_at": p.expires_at, "reference": p.reference,
            "registered_at": p.registered_at, "registered_by": p.registered_by}


def from_doc(d: dict[str, Any]) -> Package:
    return Package(d["_id"], d["entity_id"], d["mission"], to_km2(int(d["m2"])), int(d["amount_cents"]),
                   _aware(d["expires_at"]), d["reference"], _aware(d["registered_at"]), d["registered_by"])


class MongoPackageRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("entity_id", ASCENDING)], name="entity")

    async def add(self, package: Package) -> tuple[Package, bool]:
        """The package stored under its id: ``(package, True)`` if inserted now, else what was there."""
        try:
            await self.collection.insert_one(to_doc(package))
            return package, True
        except DuplicateKeyError:
            found = await self.collection.find_one({"_id": package.package_id})
            if found is None:  # pragma: no cover - a package is never deleted
                raise
            return from_doc(found), False

    async def get(self, package_id: str) -> Package | None:
        found = await self.collection.find_one({"_id": package_id})
        return from_doc(found) if found else None

    async def of_entity(self, entity_id: str, limit: int = 200) -> list[Package]:
        docs = await self.collection.find({"entity_id": entity_id}).to_list(limit)
        return sorted((from_doc(d) for d in docs), key=lambda p: (p.expires_at, p.package_id))
