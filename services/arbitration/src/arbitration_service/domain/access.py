"""Who sees and decides which cases: an arbiter those of their own cells, an administrator every cell's.
A case's place in its queue is also shown to the members of the requester's entity and to operators."""

from __future__ import annotations

from dataclasses import dataclass

from arbitration_service.domain.errors import NotYourCell

CASE_READERS = ("arbiter", "admin")
DECIDERS = ("arbiter", "admin")
PLACE_READERS = frozenset({"operator", "admin"})  # besides the requester's entity and the cell's arbiters


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    roles: frozenset[str]
    cells: frozenset[str]  # the instruction cells the person sits in
    entity: str | None = None  # the entity the person is a member of (token ``entity_id``)

    def visible_cells(self) -> frozenset[str] | None:
        """The cells whose cases this actor may read; ``None``: every cell."""
        return None if "admin" in self.roles else self.cells

    def sits_in(self, cell: str) -> bool:
        return "admin" in self.roles or ("arbiter" in self.roles and cell in self.cells)

    def must_sit_in(self, cell: str, doing: str) -> None:
        if not self.sits_in(cell):
            mine = ", ".join(sorted(self.cells)) if self.cells and "arbiter" in self.roles else "no cell"
            raise NotYourCell(f"only the arbiters of the {cell} cell (or an administrator) may {doing}; "
                              f"you sit in {mine}")

    def may_see_place(self, cell: str, entity: str | None) -> bool:
        """Whether this actor may read where a case of ``cell`` from ``entity`` stands in its queue."""
        return (bool(self.roles & PLACE_READERS) or self.sits_in(cell)
                or (self.entity is not None and self.entity == entity))
