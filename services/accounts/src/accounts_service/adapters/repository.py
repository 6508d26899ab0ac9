"""Entities, users, documents and certificates in the accounts service's own MongoDB database.

Each aggregate is one document, changed by one versioned write that also carries the events
to publish (``outbox``) and the e-mails to send (``mails``): a state change, its events and its
e-mails are stored together or not at all. Uniqueness (one live subscription per SIRET/SIREN/
RNA, one account per e-mail) is kept by unique indexes, on FerretDB as on MongoDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dinamis_common.messaging.outbox import AggregateStore, Outgoing, pending
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError
from uuid6 import uuid7

from accounts_service.adapters import translators
from accounts_service.adapters.documents import entity_document, entity_from, user_document, user_from
from accounts_service.domain.documents import LegalDocument
from accounts_service.domain.entity import DESCRIBING, EMAIL_PENDING, Entity
from accounts_service.domain.user import EMAIL_PENDING as USER_EMAIL_PENDING
from accounts_service.domain.user import User
from accounts_service.service_layer.ports import Mail, StoredCertificate

MAILS = "mails"


def _mail_records(mails: Sequence[Mail]) -> dict[str, dict[str, str]]:
    ids = [uuid7().hex for _ in mails]
    return {i: {"id": i, "to": m.to, "subject": m.subject, "body": m.body} for i, m in zip(ids, mails, strict=True)}


class _Aggregates:
    """Insert / versioned update of one aggregate with its events and e-mails (one change: the
    store keeps both side effects with it and the relays send them)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store, self.collection = store, store.collection

    async def _insert(self, doc: dict[str, Any], events: list[Outgoing], mails: Sequence[Mail]) -> bool:
        return await self.store.insert(doc, events, effects={MAILS: _mail_records(mails)})

    async def _update(self, doc: dict[str, Any], version: int, events: list[Outgoing], mails: Sequence[Mail],
                      applied: str | None) -> bool:
        _id = doc.pop("_id")
        return await self.store.update(_id, version, doc, events, applied=applied,
                                       effects={MAILS: _mail_records(mails)})

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()


    async def _expire(self, status: str, created_before: datetime) -> int:
        """Deletes the aggregates in ``status`` created before then, with their change records
        (their e-mail addresses and names); one with a change still to relay (an e-mail not sent
        yet) or that moved meanwhile (version guard) stays for the next sweep."""
        expired = 0
        query = {"status": status, "created_at": {"$lt": created_before}}
        for doc in await self.collection.find(query, {"_id": 1, "version": 1}).limit(500).to_list():
            waiting = {"aggregate": doc["_id"], "$or": [{pending(f): True} for f in self.store.effects]}
            if await self.store.changes.find_one(waiting, {"_id": 1}) is not None:
                continue
            gone = await self.collection.delete_one({"_id": doc["_id"], "version": doc["version"]})
            if gone.deleted_count:
                await self.store.changes.delete_many({"aggregate": doc["_id"]})
                expired += 1
        return expired


class MongoEntities(_Aggregates):
    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        await self.collection.create_index([("identity_key", ASCENDING)], name="identity_key", unique=True)
        await self.collection.create_index([("siren", ASCENDING)], name="siren")
        await self.collection.create_index([("status", ASCENDING), ("_id", ASCENDING)], name="status")

    async def add(self, entity: Entity, mails: Sequence[Mail] = ()) -> None:
        if not await self._insert(entity_document(entity), translators.entity_events(entity), mails):
            raise entity.duplicate()
        entity.events.clear()

    async def get(self, entity_id: str) -> Entity | None:
        doc = await self.store.get(entity_id)
        return entity_from(doc) if doc else None

    async def save(self, entity: Entity, mails: Sequence[Mail] = (), applied_event: str | None = None) -> bool:
        try:
            saved = await self._update(entity_document(entity), entity.version, translators.entity_events(entity),
                                       mails, applied_event)
        except DuplicateKeyError as exc:
            raise entity.duplicate() from exc
        entity.events.clear()
        return saved

    async def list(self, status: str | None, limit: int, after: str | None) -> list[Entity]:
        query: dict[str, Any] = {"status": status} if status else {}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self.collection.find(query, {"changes": 0}).sort("_id", ASCENDING).limit(limit)
        return [entity_from(d) async for d in cursor]

    async def by_identity_key(self, key: str) -> Entity | None:
        doc = await self.collection.find_one({"identity_key": key}, {"changes": 0})
        return entity_from(doc) if doc else None

    async def find_by_siren(self, siren: str) -> list[Entity]:
        return [entity_from(d) async for d in self.collection.find({"siren": siren}, {"changes": 0})]

    async def expire_unconfirmed(self, created_before: datetime) -> int:
        return sum([await self._expire(status, created_before) for status in (EMAIL_PENDING, DESCRIBING)])


class MongoUsers(_Aggregates):
    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        await self.collection.create_index([("email", ASCENDING)], name="email", unique=True)
        await self.collection.create_index([("keycloak_id", ASCENDING)], name="keycloak_id")
        await self.collection.create_index([("entity_id", ASCENDING), ("created_at", ASCENDING)], name="entity")

    async def add(self, user: User, mails: Sequence[Mail] = ()) -> bool:
        added = await self._insert(user_document(user), translators.user_events(user), mails)
        if not added and await self.store.get(user.id) is None:
            raise user.duplicate()
        user.events.clear()
        return added

    async def get(self, user_id: str) -> User | None:
        doc = await self.store.get(user_id)
        return user_from(doc) if doc else None

    async def save(self, user: User, mails: Sequence[Mail] = (), applied_event: str | None = None) -> bool:
        saved = await self._update(user_document(user), user.version, translators.user_events(user), mails,
                                   applied_event)
        user.events.clear()
        return saved

    async def by_keycloak_id(self, keycloak_id: str) -> User | None:
        doc = await self.collection.find_one({"keycloak_id": keycloak_id})
        return user_from(doc) if doc else None

    async def by_email(self, email: str) -> User | None:
        doc = await self.collection.find_one({"email": email.strip().lower()})
        return user_from(doc) if doc else None

    async def expire_unconfirmed(self, created_before: datetime) -> int:
        return await self._expire(USER_EMAIL_PENDING, created_before)

    async def of_entity(self, entity_id: str, limit: int = 500) -> list[User]:
        cursor = self.collection.find({"entity_id": entity_id}, {"changes": 0})
        return [user_from(d) async for d in cursor.sort("created_at", ASCENDING).limit(limit)]


class MongoDocuments:
    """Published versions of the Charter and the User Licences; a publication's event asks the
    entities concerned to accept the new version. (``version`` is the store's own optimistic
    counter: a document's version is ``document_version``.)"""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()

    async def all(self) -> list[LegalDocument]:
        cursor = self.store.collection.find({}, {"changes": 0})
        return [LegalDocument(d["document_id"], d["document_version"], d["title"], d["text"], d["published_at"])
                async for d in cursor]

    async def add(self, document: LegalDocument) -> bool:
        doc = {"_id": f"{document.document_id}@{document.version}", "document_id": document.document_id,
               "document_version": document.version, "title": document.title, "text": document.text,
               "sha256": document.sha256, "published_at": document.published_at}
        return await self.store.insert(doc, [translators.document_published(document)])


class MongoCertificates:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("entity_id", ASCENDING)], name="entity")

    async def put(self, certificate: StoredCertificate) -> None:
        try:
            await self.collection.insert_one({"_id": certificate.serial, "entity_id": certificate.entity_id,
                                              "sha256": certificate.sha256, "issued_at": certificate.issued_at,
                                              "pdf": certificate.pdf})
        except DuplicateKeyError:
            pass

    async def get(self, serial: str) -> StoredCertificate | None:
        doc = await self.collection.find_one({"_id": serial})
        return StoredCertificate(doc["_id"], doc["entity_id"], doc["sha256"], doc["issued_at"], doc["pdf"]) \
            if doc else None
