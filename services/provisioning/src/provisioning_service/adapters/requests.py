"""The request read model in MongoDB (collection ``requests``, ``_id`` = request id): what an order needs
of each submitted request, inserted once (a second delivery of the event collides and changes nothing).
GeoJSON is kept as JSON text: FerretDB refuses nested arrays (a polygon's coordinates)."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from provisioning_service.domain.requests import Quote, RequestDetails, Scene, Tasking


class MongoRequestDirectory:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        return None  # looked up by _id only

    async def add(self, request: RequestDetails) -> None:
        doc = asdict(request)
        doc["aoi"] = json.dumps(request.aoi)
        doc["scenes"] = [{**s, "aoi": json.dumps(s["aoi"])} for s in doc["scenes"]]
        if request.quote is not None:
            doc["quote"]["price_eur"] = str(request.quote.price_eur)  # FerretDB refuses Decimal128
        try:
            await self.collection.insert_one({"_id": request.request_id, **doc})
        except DuplicateKeyError:
            pass

    async def get(self, request_id: str) -> RequestDetails | None:
        doc = await self.collection.find_one({"_id": request_id})
        return _details(doc) if doc is not None else None


def _details(doc: dict[str, Any]) -> RequestDetails:
    q, t = doc.get("quote"), doc.get("tasking")
    return RequestDetails(
        request_id=doc["request_id"], kind=doc["kind"], mission=doc["mission"], aoi=json.loads(doc["aoi"]),
        area_km2=doc["area_km2"],
        scenes=tuple(Scene(**{**s, "aoi": json.loads(s["aoi"])}) for s in doc.get("scenes") or ()),
        tasking=Tasking(**t) if t else None,
        quote=Quote(**{**q, "price_eur": Decimal(q["price_eur"])}) if q else None)
