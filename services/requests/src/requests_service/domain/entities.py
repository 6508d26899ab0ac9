"""Subscribed entities as this service knows them (a read model fed by the accounts events), and
the rule deciding whether a request may be submitted on an entity's behalf."""

from __future__ import annotations

from dataclasses import dataclass

from requests_service.domain.errors import NotEligible

APPROVED = "approved"


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str
    kind: str  # "scientific" / "institutional": drives routing to a cell
    status: str
    eligible_missions: frozenset[str]
    version: int


def may_submit(entity: Entity | None, entity_id: str | None, mission: str) -> None:
    """Raises ``NotEligible`` with what the requester can do about it; returns if they may submit."""
    if not entity_id:
        raise NotEligible("your account is not attached to a subscribed entity")
    if entity is None:
        raise NotEligible(f"entity {entity_id} is not a subscribed DINAMIS member "
                          "(or its subscription has not reached this service yet)")
    if entity.status != APPROVED:
        raise NotEligible(f"entity {entity_id}'s subscription is {entity.status}: requests open once it is approved")
    if mission not in entity.eligible_missions:
        raise NotEligible(f"entity {entity_id} is not eligible for {mission} "
                          "(a licence to accept or a review pending)")


MISSIONS = ("pleiades", "spot-6-7")


def eligibility(entity: Entity | None, entity_id: str | None) -> dict[str, str | None]:
    """For each mission: ``None`` if a request may be submitted, else why not."""
    reasons: dict[str, str | None] = {}
    for mission in MISSIONS:
        try:
            may_submit(entity, entity_id, mission)
            reasons[mission] = None
        except NotEligible as exc:
            reasons[mission] = str(exc)
    return reasons
