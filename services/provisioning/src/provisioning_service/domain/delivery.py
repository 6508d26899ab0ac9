"""A delivered product package as the flow handles it: its files, where they go in the object store, and the
shared catalogue collection of each mission (the catalogue's ids)."""

from __future__ import annotations

from dataclasses import dataclass

BUCKET = "deliveries"
SHARED_COLLECTIONS = {"pleiades": "pleiades", "spot-6-7": "spot-6-7"}  # mission -> its shared collection
LICENCE = "proprietary"  # the Airbus licences of the shared Pléiades and SPOT 6/7 collections


class InvalidDelivery(ValueError):
    """The package cannot be stored or described as it is (a corrupt zip, a file or a field missing)."""


@dataclass(frozen=True)
class ProductFile:
    role: str  # metadata | image | quicklook
    name: str
    data: bytes
    media_type: str


def object_key(mission: str, request_id: str, name: str) -> str:
    """Deterministic: storing a package again overwrites its files, never duplicates them."""
    return f"{mission}/{request_id}/{name}"
