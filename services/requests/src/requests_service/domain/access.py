"""Who asks: the requester as this service knows them from their token, and who may read a request.

* a requester reads the requests of their own entity (and their own, should they have none);
* an arbiter reads the requests of their cells (token claim ``cells``; the request's ``cell`` is the
  one reviewing it, known once its case is opened);
* an operator and an admin read every request.

Only the requester themself answers the cell or cancels (``Request.is_requester``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from requests_service.domain.errors import NotAllowed

SEE_ALL = frozenset({"admin", "operator"})
ARBITER = "arbiter"
STAFF = SEE_ALL | {ARBITER}


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    entity_id: str | None  # the subscribed entity the person belongs to, if any
    roles: frozenset[str]
    cells: frozenset[str] = field(default_factory=frozenset)  # the cells an arbiter sits in

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & SEE_ALL)

    @property
    def arbiter_cells(self) -> frozenset[str]:
        return self.cells if ARBITER in self.roles else frozenset()


def may_read(actor: Actor, owner_id: str, entity_id: str | None, cell: str | None) -> bool:
    if actor.sees_all or owner_id == actor.subject:
        return True
    if actor.entity_id is not None and entity_id == actor.entity_id:
        return True
    return cell is not None and cell in actor.arbiter_cells


@dataclass(frozen=True)
class Listing:
    """Which requests a list shows: exactly one of ``everything``, ``cells``, ``entity_id``, ``owner_id``."""

    everything: bool = False
    cells: tuple[str, ...] = ()
    entity_id: str | None = None
    owner_id: str | None = None


def listing_for(actor: Actor, cell: str | None) -> Listing:
    """What ``GET /api/requests`` lists for ``actor``: an operator or admin everything (or ``cell``'s), an
    arbiter their cells' (or one of them), anybody else their entity's (their own without an entity)."""
    if actor.sees_all:
        return Listing(cells=(cell,)) if cell else Listing(everything=True)
    if actor.arbiter_cells:
        if cell is None:
            return Listing(cells=tuple(sorted(actor.arbiter_cells)))
        if cell not in actor.arbiter_cells:
            raise NotAllowed(f"you arbitrate for {', '.join(sorted(actor.arbiter_cells))}, not {cell}")
        return Listing(cells=(cell,))
    if cell is not None:
        raise NotAllowed("only arbiters, operators and admins list requests by cell")
    if actor.entity_id:
        return Listing(entity_id=actor.entity_id)
    return Listing(owner_id=actor.subject)
