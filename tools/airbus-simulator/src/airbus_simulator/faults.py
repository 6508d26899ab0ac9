"""Fault injection: each call to the API draws, from a seeded generator, whether it fails and how."""

from __future__ import annotations

import random
from typing import Literal

Fault = Literal["5xx", "timeout", "429"]


class Faults:
    def __init__(self, shares: dict[str, float], seed: int) -> None:
        self.set(shares, seed)

    def set(self, shares: dict[str, float], seed: int) -> None:
        unknown = set(shares) - {"5xx", "timeout", "429"}
        if unknown or any(not 0 <= v <= 1 for v in shares.values()) or sum(shares.values()) > 1:
            raise ValueError("fault shares are 5xx, timeout and 429, each in [0, 1], at most 1 in all")
        self.shares = dict(shares)
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret

    def draw(self) -> Fault | None:
        if not self.shares:
            return None
        x = self.rng.random()
        for kind in ("5xx", "timeout", "429"):
            x -= self.shares.get(kind, 0.0)
            if x < 0:
                return kind  # type: ignore[return-value]
        return None
