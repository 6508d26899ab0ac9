"""Who sees which cases: an arbiter the cases of their own cells, an administrator every cell's."""

from __future__ import annotations

from dataclasses import dataclass

CASE_READERS = ("arbiter", "admin")


@dataclass(frozen=True)
class Actor:
    subject: str  # the identity provider's user id (token ``sub``)
    roles: frozenset[str]
    cells: frozenset[str]  # the instruction cells the person sits in

    def visible_cells(self) -> frozenset[str] | None:
        """The cells whose cases this actor may read; ``None``: every cell."""
        return None if "admin" in self.roles else self.cells
