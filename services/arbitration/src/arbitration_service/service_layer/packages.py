"""Use cases of prepaid packages and of the allowance a request gets.

* ``register``: an administrator registers an entity's package; the same purchase (entity,
  reference) registered again gives the package registered first, a different one under the same
  reference is refused (409).
* ``of_entity``: an entity's packages with what is left of each (administrators, or its members).
* ``draw`` / ``give_back``: a case's billed km² held in the package's own ledger (``hold:<case>``,
  budget = the package's km², same concurrency scheme as the cells' ledgers: ``quotas._change``),
  refused with what is left when the package cannot take it; released when the request is cancelled.
* ``allowance``: what the quota gives a request of a mission and kind for the caller's entity now:
  its cell, the period, the free volume per request, the cell's remaining km², the entity's
  packages still usable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from arbitration_service.domain.ledger import Balances, QuotaExceeded, to_km2, to_m2
from arbitration_service.domain.model import route
from arbitration_service.domain.packages import PACKAGE_PERIOD, Package, PackageConflict, PackageNotFound, register
from arbitration_service.service_layer import quotas
from arbitration_service.service_layer.quotas import LedgerRepository, Quotas

ADMIN = "admin"


class PackageRepository(Protocol):
    async def add(self, package: Package) -> tuple[Package, bool]:
        """Store it unless a package with its id exists: ``(stored package, inserted now)``."""

    async def get(self, package_id: str) -> Package | None: ...

    async def of_entity(self, entity_id: str, limit: int = 200) -> list[Package]:
        """The entity's packages, first to expire first."""


@dataclass(frozen=True)
class Packages:
    packages: PackageRepository
    draws: Quotas  # its ledgers: the packages' own (cell = package id, period = "prepaid")


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str]
    entity_id: str | None
    entity_category: str | None


@dataclass(frozen=True)
class RegisterPackage:
    entity_id: str
    mission: str
    km2: float
    amount_eur: str
    expires_at: datetime
    reference: str


@dataclass(frozen=True)
class PackageBalance:
    package: Package
    drawn_km2: float  # held and committed
    remaining_km2: float


@dataclass(frozen=True)
class Allowance:
    cell: str
    period: str
    free_km2_per_request: float
    cell_remaining_km2: float
    packages: tuple[PackageBalance, ...]


class PackageExhausted(QuotaExceeded):
    """A draw the package cannot take (409, saying what is left)."""


async def register_package(pk: Packages, cmd: RegisterPackage, by: str) -> tuple[Package, bool]:
    """The package registered (``True``) or the same one registered before (``False``)."""
    new = register(entity_id=cmd.entity_id, mission=cmd.mission, km2=cmd.km2, amount_eur=cmd.amount_eur,
                   expires_at=cmd.expires_at, reference=cmd.reference, by=by, at=pk.draws.clock())
    stored, created = await pk.packages.add(new)
    if not created and not stored.same_as(new):
        raise PackageConflict(f"entity {cmd.entity_id} already has package {stored.package_id} under reference "
                              f"{cmd.reference!r} ({stored.km2:g} km² of {stored.mission}, {stored.amount_eur} EUR, "
                              f"expiring {stored.expires_at:%Y-%m-%d}): use another reference for another purchase")
    return stored, created


async def of_entity(pk: Packages, caller: Caller, entity_id: str, usable_only: bool = False) -> list[PackageBalance]:
    """The entity's packages with their balances: administrators, or members of the entity (others
    learn nothing, not even that the entity exists: 404)."""
    if ADMIN not in caller.roles and caller.entity_id != entity_id:
        raise PackageNotFound(f"no packages of entity {entity_id} that you may see: an entity's packages are shown to "
                              "its members and to administrators")
    now = pk.draws.clock()
    found = await pk.packages.of_entity(entity_id)
    return [await balance(pk, p) for p in found if not (usable_only and p.expired(now))]


async def balance(pk: Packages, package: Package) -> PackageBalance:
    b = await _balances(pk, package)
    return PackageBalance(package, to_km2(b.held_m2 + b.committed_m2), to_km2(b.remaining_m2))


async def _balances(pk: Packages, package: Package) -> Balances:
    ledger, _ = await pk.draws.ledgers.get(package.package_id, PACKAGE_PERIOD)
    return ledger.balances(to_m2(package.km2))


async def draw(pk: Packages, case_id: str, package_id: str, km2: float, at: datetime) -> Balances | None:
    """Hold ``km2`` of the package for the case; ``PackageExhausted`` saying what is left when it
    cannot take it (or has expired). Asking again changes nothing; ``None``: the case was released."""
    package = await pk.packages.get(package_id)
    if package is None:
        raise PackageNotFound(f"no prepaid package {package_id}: the quote named a package that does not exist")
    if package.expired(at):
        raise PackageExhausted(f"prepaid package {package_id} expired on {package.expires_at:%Y-%m-%d %H:%M} UTC: "
                               f"{km2:g} km² cannot be drawn from it (quote again: it will be paid otherwise)", 0.0)
    ledgers: LedgerRepository = pk.draws.ledgers
    placed = await ledgers.place(case_id, package_id, PACKAGE_PERIOD)
    if placed is None:
        return None
    m2, budget = to_m2(km2), to_m2(package.km2)
    try:
        return await quotas._change(pk.draws, package_id, PACKAGE_PERIOD, case_id,
                                    lambda ledger, b: ledger.hold(case_id, m2, b, at), budget_m2=budget)
    except QuotaExceeded as exc:
        await ledgers.drop(f"hold:{case_id}", package_id, PACKAGE_PERIOD)
        await ledgers.unplace(case_id, package_id, PACKAGE_PERIOD)
        raise PackageExhausted(f"prepaid package {package_id} has {exc.remaining_km2:g} km² left of its "
                               f"{package.km2:g} km²: {km2:g} km² cannot be drawn from it (accept a smaller area, "
                               "or the entity registers another package)", exc.remaining_km2) from exc


async def give_back(pk: Packages, case_id: str, reason: str, at: datetime) -> Balances | None:
    """Release what the case drew from a package (``None``: it drew nothing)."""
    placed = await pk.draws.ledgers.close(case_id, reason)
    if placed is None:
        return None
    package = await pk.packages.get(placed[0])
    budget = to_m2(package.km2) if package else 0
    return await quotas._change(pk.draws, placed[0], PACKAGE_PERIOD, case_id,
                                lambda ledger, b: ledger.release(case_id, reason, b, at), budget_m2=budget)


async def spend(pk: Packages, case_id: str, km2: float, at: datetime) -> Balances | None:
    """The case was delivered: what it drew is spent for the delivered ``km2``, the rest given back
    (``None``: it drew nothing)."""
    placed = await pk.draws.ledgers.placement(case_id)
    if placed is None:
        return None
    package = await pk.packages.get(placed[0])
    return await quotas.deliver(pk.draws, case_id, km2, at, budget_m2=to_m2(package.km2) if package else 0)


async def allowance(q: Quotas, pk: Packages, caller: Caller, mission: str, kind: str,
                    route_of: Callable[[str, str], str] = route) -> Allowance:
    """What the quota gives a ``kind`` request of ``mission`` from the caller's entity, now."""
    now = q.clock()
    cell = route_of(mission, caller.entity_category or "institutional")
    period = q.policy.period_of(mission, now).label
    left = await quotas.burndown(q, cell, period)
    usable: tuple[PackageBalance, ...] = ()
    if caller.entity_id:
        usable = tuple(b for b in await of_entity(pk, caller, caller.entity_id, usable_only=True)
                       if b.package.mission == mission)
    return Allowance(cell, period, q.policy.free_km2(mission, kind, now.date()),
                     to_km2(left.balances.remaining_m2), usable)
