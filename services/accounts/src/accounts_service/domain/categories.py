"""Who may subscribe, and what each category of entity may order.

Facts from the brief (../shared/domain/BRIEF.md): French public bodies; universities, research
and teaching; non-profits with a public-service mission; French private companies working for a
public actor (under a contract) or for their own R&D; foreign scientific organisations with a
French partner (reviewed by CNES for Pléiades and by Airbus for SPOT 6/7); European labs
(Pléiades only). Every entity is scientific or institutional for routing and prices.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts_service.domain.errors import InvalidInput

PLEIADES, SPOT = "pleiades", "spot-6-7"
MISSIONS = (PLEIADES, SPOT)

# EU and EEA member states other than France (ISO 3166-1 alpha-2), for the "European lab" category
EUROPE = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO".split()
)


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    kind: str  # "scientific" or "institutional"
    missions: tuple[str, ...]  # what it may ever order
    french: bool  # French entity: a SIREN/SIRET (or RNA) is required, country FR
    identifier_schemes: tuple[str, ...]  # accepted for a French entity
    reviews: tuple[tuple[str, str], ...] = ()  # (mission, reviewer) reviews needed beyond DINAMIS'
    needs_contract: bool = False  # a contract reference with the public actor
    needs_partner: bool = False  # a French partner entity already subscribed


CATEGORIES: dict[str, Category] = {c.id: c for c in (
    Category("public-body", "French public body", "institutional", MISSIONS, True, ("siret", "siren")),
    Category("research-education", "University, research or teaching", "scientific", MISSIONS, True,
             ("siret", "siren")),
    Category("non-profit", "Non-profit with a public-service mission", "institutional", MISSIONS, True,
             ("siret", "siren", "rna")),
    Category("private-public-contract", "French private company working for a public actor", "institutional",
             MISSIONS, True, ("siret", "siren"), needs_contract=True),
    Category("private-rnd", "French private company, own R&D", "scientific", MISSIONS, True, ("siret", "siren")),
    Category("foreign-scientific", "Foreign scientific organisation", "scientific", MISSIONS, False, (),
             reviews=((PLEIADES, "cnes"), (SPOT, "airbus")), needs_partner=True),
    Category("european-lab", "European laboratory", "scientific", (PLEIADES,), False, (),
             reviews=((PLEIADES, "cnes"),)),
)}

REVIEWERS = ("dinamis", "cnes", "airbus")


def category(category_id: str) -> Category:
    try:
        return CATEGORIES[category_id]
    except KeyError:
        raise InvalidInput(f"unknown category {category_id!r}: one of {', '.join(CATEGORIES)}") from None


def reviewer_for(cat: Category, mission: str) -> str | None:
    """The partner that must review this mission for this category (None: DINAMIS alone)."""
    return next((who for m, who in cat.reviews if m == mission), None)
