"""A request for imagery and its life: submitted → in_review → accepted/rejected → ordered.

Events from other services may arrive out of order (the order event on one topic can
overtake the decision on another): the status only ever moves forward, while the history
keeps every step with its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from requests_service.domain.access import STAFF


class Status(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INFORMATION_REQUESTED = "information_requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ORDERED = "ordered"


_RANK = {
    Status.SUBMITTED: 0,
    Status.IN_REVIEW: 1,
    Status.INFORMATION_REQUESTED: 2,
    Status.ACCEPTED: 3,
    Status.REJECTED: 3,
    Status.ORDERED: 4,
}

DECISION_STATUS = {
    "accepted": Status.ACCEPTED,
    "accepted-partially": Status.ACCEPTED,
    "rejected": Status.REJECTED,
    "information-requested": Status.INFORMATION_REQUESTED,
}


@dataclass
class HistoryEntry:
    status: Status
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Requester:
    user_id: str
    entity_id: str | None
    entity_category: str


@dataclass(frozen=True)
class RequestSubmitted:
    """A requester submitted a request for imagery."""

    request_id: str
    title: str
    mission: str
    aoi: dict[str, Any]
    area_km2: float
    requester: Requester
    submitted_at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """The request moved forward, with the cell reviewing it and its order as they were then."""

    request_id: str
    previous: Status
    status: Status
    at: datetime
    cell: str | None
    order_id: str | None


@dataclass
class Request:
    id: str
    title: str
    mission: str
    aoi: dict[str, Any]
    area_km2: float
    requester: Requester
    submitted_at: datetime
    status: Status = Status.SUBMITTED
    cell: str | None = None
    order_id: str | None = None
    accepted_area_km2: float | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    fingerprint: str = ""
    version: int = 0
    seen_events: set[str] = field(default_factory=set)
    events: list[RequestSubmitted | StatusChanged] = field(default_factory=list, repr=False)

    @classmethod
    def submit(cls, *, id: str, title: str, mission: str, aoi: dict[str, Any], area_km2: float,
               requester: Requester, at: datetime, fingerprint: str = "") -> Request:
        request = cls(id=id, title=title, mission=mission, aoi=aoi, area_km2=area_km2, requester=requester,
                      submitted_at=at, fingerprint=fingerprint,
                      history=[HistoryEntry(Status.SUBMITTED, at, "request submitted")])
        request.events.append(RequestSubmitted(id, title, mission, aoi, area_km2, requester, at))
        return request

    def _move(self, status: Status, at: datetime, note: str) -> None:
        self.history.append(HistoryEntry(status, at, note))
        self.history.sort(key=lambda h: (h.at, _RANK[h.status]))
        if _RANK[status] > _RANK[self.status]:
            self.events.append(StatusChanged(self.id, self.status, status, at, self.cell, self.order_id))
            self.status = status

    def review_opened(self, cell: str, at: datetime) -> None:
        self.cell = cell
        self._move(Status.IN_REVIEW, at, f"in review by the {cell} cell")

    def decided(self, decision: str, reason: str, accepted_area_km2: float, cell: str, at: datetime) -> None:
        self.cell = self.cell or cell
        status = DECISION_STATUS[decision]
        if status is Status.ACCEPTED:
            self.accepted_area_km2 = accepted_area_km2
        self._move(status, at, f"{decision}: {reason}" if reason else decision)

    def ordered(self, order_id: str, at: datetime) -> None:
        self.order_id = order_id
        self._move(Status.ORDERED, at, f"order {order_id} recorded")

    def visible_to(self, user_id: str, roles: frozenset[str]) -> bool:
        return self.requester.user_id == user_id or bool(roles & STAFF)
