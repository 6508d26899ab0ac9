"""Prepaid packages: a volume (km²) an entity bought for a mission, registered by an administrator,
usable until it expires. Requests beyond the free quota draw their billed km² from it (SPOT 6/7).

A package is identified by its entity and the reference of its purchase (an order or invoice
number): registering the same reference again for the same entity gives the same package
(``package_id`` derived from both), and a different content under that reference is refused. Its
draws are entries of a ledger of its own (``domain.ledger``: ``hold:<case>`` …, budget = its km²),
so its remaining km² is derived from the entries like a cell's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from arbitration_service.domain.errors import ArbitrationError

MISSIONS = ("pleiades", "spot-6-7")
PACKAGE_PERIOD = "prepaid"  # the one "period" of a package's ledger
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


class InvalidPackage(ArbitrationError):
    """A package that cannot be registered as given (422)."""


class PackageConflict(ArbitrationError):
    """The reference is taken by another package of the entity (409)."""


class PackageNotFound(ArbitrationError):
    """No such package for this caller (404)."""


def package_id(entity_id: str, reference: str) -> str:
    return "pkg-" + hashlib.sha256(f"{entity_id}\n{reference}".encode()).hexdigest()[:20]


def amount_cents(amount_eur: str) -> int:
    """``"1234.50"`` → 123450; refused unless a non-negative decimal with at most two decimals."""
    if not _AMOUNT.match(amount_eur):
        raise InvalidPackage(f"amount_eur {amount_eur!r}: write a non-negative amount in EUR with at most two "
                             "decimals, as a string (\"12500.00\")")
    try:
        return int(Decimal(amount_eur) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refuses it
        raise InvalidPackage(f"amount_eur {amount_eur!r} is not a number") from exc


@dataclass(frozen=True)
class Package:
    package_id: str
    entity_id: str
    mission: str
    km2: float
    amount_cents: int
    expires_at: datetime
    reference: str
    registered_at: datetime
    registered_by: str

    @property
    def amount_eur(self) -> Decimal:
        return Decimal(self.amount_cents) / 100

    def expired(self, at: datetime) -> bool:
        return self.expires_at <= at

    def same_as(self, other: Package) -> bool:
        """The same purchase registered again (who and when aside)."""
        return (self.entity_id, self.mission, self.km2, self.amount_cents, self.expires_at, self.reference) == (
            other.entity_id, other.mission, other.km2, other.amount_cents, other.expires_at, other.reference)


def register(*, entity_id: str, mission: str, km2: float, amount_eur: str, expires_at: datetime, reference: str,
             by: str, at: datetime) -> Package:
    """A new package, checked: what is wrong said in words an administrator can act on."""
    if not entity_id.strip():
        raise InvalidPackage("entity_id: name the entity the package belongs to")
    if mission not in MISSIONS:
        raise InvalidPackage(f"mission {mission!r}: one of {', '.join(MISSIONS)}")
    if not 0 < km2 <= 1e9:
        raise InvalidPackage(f"km2 {km2:g}: a package holds more than 0 and at most 1e9 km²")
    if not _REFERENCE.match(reference):
        raise InvalidPackage(f"reference {reference!r}: 1 to 80 letters, digits, '.', '_', '/' or '-' "
                             "(the purchase order or invoice number)")
    if expires_at.tzinfo is None:
        raise InvalidPackage("expires_at: give a time zone (2027-01-01T00:00:00Z)")
    if expires_at <= at:
        raise InvalidPackage(f"expires_at {expires_at.isoformat()} is already past: a package must be usable")
    return Package(package_id(entity_id, reference), entity_id, mission, round(km2, 6), amount_cents(amount_eur),
                   expires_at, reference, at, by)
