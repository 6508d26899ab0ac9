"""Mapping of aggregates to MongoDB documents (and back). Plain dictionaries: no nested arrays
(FerretDB refuses some), datetimes stay timezone-aware (the client is ``tz_aware``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dinamis_common.messaging.outbox import applied_events

from accounts_service.domain.entity import Acceptance, Entity, Person, Review
from accounts_service.domain.identifiers import Identifier
from accounts_service.domain.links import Link
from accounts_service.domain.user import LinkedIdentity, RoleChange, User


def _links(links: dict[str, Link]) -> list[dict[str, Any]]:
    return [asdict(link) for link in links.values()]


def _links_back(rows: list[dict[str, Any]]) -> dict[str, Link]:
    return {row["purpose"]: Link(**row) for row in rows}


def entity_document(e: Entity) -> dict[str, Any]:
    return {
        "_id": e.id, "status": e.status, "correspondent": asdict(e.correspondent), "created_at": e.created_at,
        "name": e.name, "category": e.category_id, "country": e.country, "sector": e.sector,
        "identifier": asdict(e.identifier) if e.identifier else None,
        "siren": e.identifier.siren if e.identifier else None, "identity_key": e.identity_key,
        "contract_reference": e.contract_reference, "partner_entity_id": e.partner_entity_id,
        "legal_representative": asdict(e.legal_representative) if e.legal_representative else None,
        "acceptances": [asdict(a) for a in e.acceptances],
        "reviews": {k: asdict(r) for k, r in e.reviews.items()},
        "eligible_missions": list(e.eligible_missions), "certificate_serial": e.certificate_serial,
        "links": _links(e.links),
    }


def entity_from(doc: dict[str, Any]) -> Entity:
    return Entity(
        id=doc["_id"], correspondent=Person(**doc["correspondent"]), created_at=doc["created_at"],
        status=doc["status"], name=doc.get("name", ""), category_id=doc.get("category", ""),
        country=doc.get("country", ""), sector=doc.get("sector", ""),
        identifier=Identifier(**doc["identifier"]) if doc.get("identifier") else None,
        contract_reference=doc.get("contract_reference", ""), partner_entity_id=doc.get("partner_entity_id", ""),
        legal_representative=Person(**doc["legal_representative"]) if doc.get("legal_representative") else None,
        acceptances=[Acceptance(**a) for a in doc.get("acceptances", [])],
        reviews={k: Review(**r) for k, r in (doc.get("reviews") or {}).items()},
        eligible_missions=list(doc.get("eligible_missions", [])),
        certificate_serial=doc.get("certificate_serial", ""), links=_links_back(doc.get("links", [])),
        version=doc.get("version", 0), seen_events=applied_events(doc),
    )


def user_document(u: User) -> dict[str, Any]:
    return {
        "_id": u.id, "email": u.email.lower(), "first_name": u.first_name, "last_name": u.last_name,
        "entity_id": u.entity_id, "created_at": u.created_at, "status": u.status, "roles": list(u.roles),
        "cells": list(u.cells), "keycloak_id": u.keycloak_id, "invited": u.invited,
        "identity_problem": u.identity_problem,
        "linked": [asdict(i) for i in u.linked.values()], "audit": [asdict(a) for a in u.audit],
        "links": _links(u.links),
    }


def user_from(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"], email=doc["email"], first_name=doc["first_name"], last_name=doc["last_name"],
        entity_id=doc.get("entity_id"), created_at=doc["created_at"], status=doc["status"],
        roles=list(doc.get("roles", [])), cells=list(doc.get("cells", [])), keycloak_id=doc.get("keycloak_id"),
        invited=doc.get("invited", False), identity_problem=doc.get("identity_problem"),
        linked={i["provider"]: LinkedIdentity(**i) for i in doc.get("linked", [])},
        audit=[RoleChange(**a) for a in doc.get("audit", [])], links=_links_back(doc.get("links", [])),
        version=doc.get("version", 0), seen_events=applied_events(doc),
    )
