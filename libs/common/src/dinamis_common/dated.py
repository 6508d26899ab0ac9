"""Configuration valid from a date: tariffs, rules and limits change on a known day, and what was
quoted or decided before that day keeps the value then in force.

In settings (JSON in the environment): ``[{"from": "2016-01-01", "value": {...}}, ...]``; the value
valid on a day is the one with the latest ``from`` not after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Dated(BaseModel, Generic[T]):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    since: date = Field(alias="from", description="the first day the value is in force")
    value: T


def in_force(steps: Sequence[Dated[T]], day: date, what: str = "value") -> T:
    """The value in force on ``day``; ``LookupError`` saying so when none is yet."""
    found: Dated[T] | None = None
    for step in steps:
        if step.since <= day and (found is None or step.since > found.since):
            found = step
    if found is None:
        raise LookupError(f"no {what} is in force on {day.isoformat()}")
    return found.value
