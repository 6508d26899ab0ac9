"""In-memory fakes with the Mongo repositories' semantics (optimistic versions, an incoming event
applied once, one live subscription per identifier, one account per e-mail), a clock the tests
move, and a recorded identity provider. Wire events go through the real translators."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from accounts_service.adapters import translators
from accounts_service.adapters.legal_texts import shipped
from accounts_service.domain.access import Actor
from accounts_service.domain.certificate import CertificateCheck
from accounts_service.domain.entity import Description, Person
from accounts_service.service_layer import subscriptions
from accounts_service.service_layer.context import Accounts
from accounts_service.service_layer.ports import IdentityRecord, IdentityRefused
from accounts_service.service_layer.subscriptions import Origin


class Store:
    def __init__(self, translate, unique) -> None:
        self.rows: dict = {}
        self.events: list = []  # wire events (CloudEvent) in write order
        self.mails: list = []
        self._translate, self._unique = translate, unique

    def _check_unique(self, item) -> None:
        key = self._unique(item)
        if any(self._unique(o) == key for i, o in self.rows.items() if i != item.id):
            raise item.duplicate()

    async def add(self, item, mails=()) -> bool:
        if item.id in self.rows:
            return False
        self._check_unique(item)
        self.events += [o.event for o in self._translate(item)]
        self.mails += list(mails)
        item.events.clear()
        item.version = 1
        self.rows[item.id] = copy.deepcopy(item)
        return True

    async def get(self, item_id):
        found = self.rows.get(item_id)
        return copy.deepcopy(found) if found else None

    async def save(self, item, mails=(), applied_event=None) -> bool:
        stored = self.rows[item.id]
        if stored.version != item.version or (applied_event and applied_event in stored.seen_events):
            return False
        self._check_unique(item)
        self.events += [o.event for o in self._translate(item)]
        self.mails += list(mails)
        item.events.clear()
        item.version += 1
        if applied_event:
            item.seen_events.add(applied_event)
        self.rows[item.id] = copy.deepcopy(item)
        return True

    def _expire(self, unconfirmed, created_before) -> int:
        gone = [i for i, item in self.rows.items() if unconfirmed(item) and item.created_at < created_before]
        for i in gone:
            del self.rows[i]
        return len(gone)

    def types(self) -> list[str]:
        return [e.type.split(".accounts.")[1] for e in self.events]


class Entities(Store):
    def __init__(self) -> None:
        super().__init__(translators.entity_events, lambda e: e.identity_key)

    async def add(self, entity, mails=()) -> None:
        await super().add(entity, mails)

    async def list(self, status, limit, after):
        rows = sorted((e for e in self.rows.values() if status is None or e.status == status), key=lambda e: e.id)
        return [copy.deepcopy(e) for e in rows if after is None or e.id > after][:limit]

    async def by_identity_key(self, key):
        return next((copy.deepcopy(e) for e in self.rows.values() if e.identity_key == key), None)

    async def find_by_siren(self, siren):
        return [copy.deepcopy(e) for e in self.rows.values() if e.identifier and e.identifier.siren == siren]

    async def expire_unconfirmed(self, created_before):
        return self._expire(lambda e: e.status in ("email-pending", "describing"), created_before)


class Users(Store):
    def __init__(self) -> None:
        super().__init__(translators.user_events, lambda u: u.email.lower())

    async def by_keycloak_id(self, keycloak_id):
        return next((copy.deepcopy(u) for u in self.rows.values() if u.keycloak_id == keycloak_id), None)

    async def of_entity(self, entity_id, limit=500):
        return [copy.deepcopy(u) for u in self.rows.values() if u.entity_id == entity_id][:limit]

    async def by_email(self, email):
        return next((copy.deepcopy(u) for u in self.rows.values() if u.email == email.strip().lower()), None)

    async def expire_unconfirmed(self, created_before):
        return self._expire(lambda u: u.status == "email-pending", created_before)


class Documents:
    def __init__(self) -> None:
        self.rows = {(d.document_id, d.version): d for d in shipped()}

    async def all(self):
        return list(self.rows.values())

    async def add(self, document) -> bool:
        if (document.document_id, document.version) in self.rows:
            return False
        self.rows[(document.document_id, document.version)] = document
        return True


class FakeCertificates:
    """Records what it was asked to certify; its "PDF" names the serial and entity."""

    def __init__(self) -> None:
        self.issued: list = []

    async def issue(self, facts) -> bytes:
        self.issued.append(facts)
        return f"%PDF-fake {facts.serial} {facts.entity_id}".encode()

    async def verify(self, pdf: bytes) -> CertificateCheck:
        return CertificateCheck.refused("fake")


class CertificateStore:
    def __init__(self) -> None:
        self.rows: dict = {}

    async def put(self, certificate) -> None:
        self.rows.setdefault(certificate.serial, certificate)

    async def get(self, serial):
        return self.rows.get(serial)


@dataclass
class FakeIdentity:
    pushed: list = field(default_factory=list)
    records: dict = field(default_factory=dict)
    refusal: str | None = None  # what the provider says when it refuses an account

    async def push(self, user, entity_kind):
        if self.refusal:
            raise IdentityRefused(self.refusal)
        self.pushed.append((user.id, user.status, tuple(user.roles), entity_kind))
        return user.keycloak_id or f"kc-{user.id[:8]}", True

    async def lookup(self, keycloak_id):
        return self.records.get(keycloak_id)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(clock) -> Accounts:
    return Accounts(entities=Entities(), users=Users(), documents=Documents(), certificates=FakeCertificates(),
                    certificate_store=CertificateStore(), identity=FakeIdentity(), clock=clock)


ADMIN = Actor("kc-admin", "ada.admin", None, frozenset({"admin"}))
SIRET = "21340172201787"  # a valid SIRET (Luhn checksum), shaped like a municipality's
REP = Person("Louise", "Maire", "maire@ville-exemple.fr", "Mayor")


def description(**changes) -> Description:
    base = {"name": "Ville d'Exemple", "category": "public-body", "country": "FR", "sector": "local authority",
            "legal_representative": REP, "identifier_scheme": "siret", "identifier": SIRET}
    return Description(**{**base, **changes})


class Journey:
    """A subscription walked step by step through the use cases, reading the links from the
    e-mails as a person would."""

    def __init__(self, ctx: Accounts, clock: Clock) -> None:
        self.ctx, self.clock, self.admin = ctx, clock, ADMIN

    def mails_to(self, address: str) -> list:
        return [m for m in self.ctx.entities.mails + self.ctx.users.mails if m.to == address]

    def token(self, address: str, param: str = "token") -> str:
        return re.search(rf"[?&]{param}=([\w\-]+)", self.mails_to(address)[-1].body)[1]

    async def started(self, email: str = "corr@ville-exemple.fr") -> str:
        entity = await subscriptions.start(self.ctx, Person("Camille", "Correspondante", email))
        return entity.id

    async def described(self, email: str = "corr@ville-exemple.fr", **changes) -> str:
        entity_id = await self.started(email)
        edit = await subscriptions.verify_email(self.ctx, entity_id, self.token(email))
        await subscriptions.describe(self.ctx, entity_id, edit, description(**changes))
        return entity_id

    async def accept_all(self, entity_id: str, rep: Person = REP) -> None:
        _, docs = await subscriptions.documents_to_accept(self.ctx, entity_id, self.token(rep.email))
        await subscriptions.accept(self.ctx, entity_id, self.token(rep.email), [d.ref for d in docs], rep.name,
                                   Origin("203.0.113.7", "pytest"))

    async def approved(self, email: str = "corr@ville-exemple.fr", **changes) -> str:
        entity_id = await self.described(email, **changes)
        await self.accept_all(entity_id, changes.get("legal_representative", REP))
        await subscriptions.review(self.ctx, entity_id, "dinamis", "approve", "", self.admin)
        return entity_id


@pytest.fixture
def journey(ctx, clock) -> Journey:
    return Journey(ctx, clock)


def identity_record(keycloak_id: str, siret: str = "", linked=None, email="agent@ville-exemple.fr") -> IdentityRecord:
    return IdentityRecord(keycloak_id, email, email, "Agnès", "Agent", {"siret": [siret]} if siret else {},
                          linked or {})


@pytest.fixture
def record():
    return identity_record
