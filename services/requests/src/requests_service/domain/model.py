"""A request for imagery and its life, as its requester follows it.

    submitted → in_review ⇄ information_requested → accepted | partially_accepted | rejected → ordered
      → acquiring → delivered → closed
    (any status before ordered and not rejected) → cancelled (the requester) | expired (a tasking whose
    window ended before it was ordered); ordered or acquiring → failed (provisioning)

``acquiring``, ``delivered``, ``closed`` and ``failed`` are announced by provisioning (its issue);
this service moves a request to them as to ``ordered``.

**What is asked** (issue 10): an archive request (Airbus archive scenes, each clipped) or a tasking
(an area, a window, limits on cloud and incidence, a mode and a priority), why (``justification``),
who funds what goes beyond the quota (``funding_reference``), and the quote it was submitted with,
frozen with its overlap offers. A request stored before issue 10 has none of these: it reads as a
tasking request without a window, a justification or a quote.

**Cancellation**: before it is ordered; a tasking request only until
``cancel_tasking_before_window_hours`` (the intake rules in force) before its window starts.

**How the status moves.** Each status belongs to a *stage*: submitted (0), review (1: in_review,
information_requested), decided (2: accepted, partially_accepted, rejected), ordered (3), acquiring
(4), delivered (5), closed (6). ``cancelled``, ``expired`` and ``failed`` end the request: nothing moves
it out of them. An upstream event moves the request when

* it leads to a later stage than the current one, or
* it is the cell's question (decision ``information-requested``) while the request is in review.

The only move back to ``in_review`` is the requester's own answer (``provide_information``), and
it is allowed only while the request is ``information_requested``. The loop can go round any
number of times and still never goes backwards: the cell asks again only after it received the
answer (the answer is what reopens its case), so a question reaching this service is newer than
every answer already recorded. A redelivered question is recognised by its event id and applied
once. Events from other topics that arrive late (an order overtaking its decision, a case opening
after the decision) never move the status back. Nothing moves a request out of ``cancelled``:
an order or a decision arriving after the cancellation is only recorded in the history.

**History.** Every step is kept with its time, who made it (``by``: the requester for their own
actions, the decider or the service that announced it otherwise) and a note. A step that moved
the status is appended (the order in which it happened here); a step that arrived late is placed
at its time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from requests_service.domain.errors import IllegalTransition
from requests_service.domain.quote import Quote
from requests_service.domain.spec import Kind, Priority, RequestSpec, Scene, Tasking


class Status(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INFORMATION_REQUESTED = "information_requested"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"
    ORDERED = "ordered"
    ACQUIRING = "acquiring"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"


_STAGE = {
    Status.SUBMITTED: 0,
    Status.IN_REVIEW: 1,
    Status.INFORMATION_REQUESTED: 1,
    Status.ACCEPTED: 2,
    Status.PARTIALLY_ACCEPTED: 2,
    Status.REJECTED: 2,
    Status.ORDERED: 3,
    Status.ACQUIRING: 4,
    Status.DELIVERED: 5,
    Status.CLOSED: 6,
}
ENDED = frozenset({Status.CANCELLED, Status.EXPIRED, Status.FAILED})  # nothing moves a request out of these
_ENDING = {Status.CANCELLED: "cancellation", Status.EXPIRED: "expiry", Status.FAILED: "failure"}
EXPIRABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.INFORMATION_REQUESTED, Status.ACCEPTED,
                       Status.PARTIALLY_ACCEPTED})  # not ordered yet

DECISION_STATUS = {
    "accepted": Status.ACCEPTED,
    "accepted-partially": Status.PARTIALLY_ACCEPTED,
    "rejected": Status.REJECTED,
    "information-requested": Status.INFORMATION_REQUESTED,
}

Party = Literal["requester", "cell", "operator", "airbus"]

WHO_MUST_ACT: dict[Status, Party | None] = {
    Status.SUBMITTED: "cell",
    Status.IN_REVIEW: "cell",
    Status.INFORMATION_REQUESTED: "requester",
    Status.ACCEPTED: "operator",
    Status.PARTIALLY_ACCEPTED: "operator",
    Status.ORDERED: "airbus",
    Status.ACQUIRING: "airbus",
    Status.DELIVERED: None,  # the imagery is in the catalogue: the requester downloads it
    Status.CLOSED: None,
    Status.REJECTED: None,
    Status.CANCELLED: None,
    Status.FAILED: None,
    Status.EXPIRED: None,
}

SERVICE = "requests"  # ``by`` of a step nobody in particular made
ARBITRATION = "arbitration"
PROVISIONING = "provisioning"


@dataclass
class HistoryEntry:
    status: Status
    at: datetime
    note: str = ""
    by: str = SERVICE


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
    kind: Kind = "tasking"
    justification: str = ""
    funding_reference: str | None = None
    scenes: tuple[Scene, ...] = ()
    tasking: Tasking | None = None
    priority: Priority = "standard"
    quote: Quote | None = None


@dataclass(frozen=True)
class StatusChanged:
    """The request's status moved, with the cell reviewing it and its order as they were then."""

    request_id: str
    previous: Status
    status: Status
    at: datetime
    cell: str | None
    order_id: str | None


@dataclass(frozen=True)
class InformationProvided:
    """The requester answered the cell's question: the case goes back to review."""

    request_id: str
    answer: str
    provided_by: str
    provided_at: datetime


@dataclass(frozen=True)
class RequestCancelled:
    """The requester withdrew the request before it was ordered."""

    request_id: str
    reason: str
    cancelled_by: str
    cancelled_at: datetime


Event = RequestSubmitted | StatusChanged | InformationProvided | RequestCancelled


@dataclass
class Request:
    id: str
    title: str
    mission: str
    aoi: dict[str, Any]
    area_km2: float
    requester: Requester
    submitted_at: datetime
    kind: Kind = "tasking"
    justification: str = ""
    funding_reference: str | None = None
    scenes: tuple[Scene, ...] = ()
    tasking: Tasking | None = None
    priority: Priority = "standard"
    quote: Quote | None = None  # frozen at submission
    status: Status = Status.SUBMITTED
    cell: str | None = None
    order_id: str | None = None
    accepted_area_km2: float | None = None
    coverage_percent: float | None = None  # a tasking's acquisitions so far, of the ordered area
    delivered_item: str | None = None  # "<collection>/<item id>" of the delivered imagery in the catalogue
    history: list[HistoryEntry] = field(default_factory=list)
    fingerprint: str = ""
    version: int = 0
    seen_events: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def submit(cls, *, id: str, spec: RequestSpec, requester: Requester, at: datetime, quote: Quote | None = None,
               fingerprint: str = "") -> Request:
        request = cls(id=id, title=spec.title, mission=spec.mission, aoi=spec.aoi, area_km2=spec.area_km2,
                      requester=requester, submitted_at=at, kind=spec.kind, justification=spec.justification,
                      funding_reference=spec.funding_reference, scenes=spec.scenes, tasking=spec.tasking,
                      priority=spec.priority, quote=quote, fingerprint=fingerprint,
                      history=[HistoryEntry(Status.SUBMITTED, at, "request submitted", requester.user_id)])
        request.events.append(RequestSubmitted(
            id, spec.title, spec.mission, spec.aoi, spec.area_km2, requester, at, spec.kind, spec.justification,
            spec.funding_reference, spec.scenes, spec.tasking, spec.priority, quote))
        return request

    @property
    def who_must_act(self) -> Party | None:
        return WHO_MUST_ACT[self.status]

    # -- the rule ------------------------------------------------------------------------------
    def _moves_to(self, status: Status) -> bool:
        if self.status in ENDED:
            return False
        if status in ENDED:
            return True
        if _STAGE[status] > _STAGE[self.status]:
            return True
        return self.status is Status.IN_REVIEW and status is Status.INFORMATION_REQUESTED

    def _become(self, status: Status, at: datetime, note: str, by: str) -> None:
        self.history.append(HistoryEntry(status, at, note, by))
        self.events.append(StatusChanged(self.id, self.status, status, at, self.cell, self.order_id))
        self.status = status

    def _record_late(self, entry: HistoryEntry) -> None:
        self.history.insert(bisect.bisect_right([h.at for h in self.history], entry.at), entry)

    def _upstream(self, status: Status, at: datetime, note: str, by: str) -> None:
        if self._moves_to(status):
            self._become(status, at, note, by)
        else:
            if self.status in ENDED:
                note += f" (after the {_ENDING[self.status]}: the request stays {self.status})"
            self._record_late(HistoryEntry(status, at, note, by))

    # -- what other services announce ----------------------------------------------------------
    def review_opened(self, cell: str, at: datetime) -> None:
        self.cell = self.cell or cell
        self._upstream(Status.IN_REVIEW, at, f"in review by the {cell} cell", ARBITRATION)

    def decided(self, decision: str, reason: str, accepted_area_km2: float, cell: str, at: datetime,
                decided_by: str = "") -> None:
        self.cell = self.cell or cell
        status = DECISION_STATUS[decision]
        if status in (Status.ACCEPTED, Status.PARTIALLY_ACCEPTED) and self.status is not Status.CANCELLED:
            self.accepted_area_km2 = accepted_area_km2
        self._upstream(status, at, f"{decision}: {reason}" if reason else decision, decided_by or ARBITRATION)

    def ordered(self, order_id: str, at: datetime) -> None:
        self.order_id = self.order_id or order_id
        self._upstream(Status.ORDERED, at, f"order {order_id} recorded", PROVISIONING)

    def placed(self, order_id: str, airbus_order_id: str, at: datetime) -> None:
        """Airbus took the order: ordered, if the recorded order did not say so already (each status
        appears once in the history; the Airbus id is the order's, for the operators)."""
        self.order_id = self.order_id or order_id
        if self.status is Status.ORDERED or any(h.status is Status.ORDERED for h in self.history):
            return
        self._upstream(Status.ORDERED, at, f"order {order_id} placed with Airbus as {airbus_order_id}", PROVISIONING)

    def acquisition(self, attempt: int, outcome: str, coverage_percent: float, at: datetime) -> None:
        """An acquisition attempt of the tasking; the coverage only grows (attempts may arrive out of order)."""
        if self.status not in ENDED:
            self.coverage_percent = max(self.coverage_percent or 0.0, coverage_percent)
        self._upstream(Status.ACQUIRING, at, f"acquisition attempt {attempt}: {outcome}, "
                       f"{coverage_percent:g} % of the area covered so far", PROVISIONING)

    def delivered(self, collection: str, item_id: str, delivered_km2: float, at: datetime) -> None:
        """The imagery is in the shared catalogue: delivered, and closed (the quota is committed for
        what was delivered by arbitration, from the same event)."""
        if self.status not in ENDED:
            self.delivered_item = f"{collection}/{item_id}"
        self._upstream(Status.DELIVERED, at, f"{delivered_km2:g} km² delivered: item {item_id} of the "
                       f"{collection} collection, found by every eligible user", PROVISIONING)
        self._upstream(Status.CLOSED, at, "closed: delivered and in the shared catalogue", PROVISIONING)

    def order_failed(self, reason: str, at: datetime) -> None:
        self._upstream(Status.FAILED, at, f"the order failed: {reason}", PROVISIONING)

    def order_cancelled(self, reason: str, at: datetime) -> None:
        self._upstream(Status.CANCELLED, at, f"the order was cancelled by the supply operators: {reason}",
                       PROVISIONING)

    # -- what the requester does ---------------------------------------------------------------
    def provide_information(self, answer: str, by: str, at: datetime) -> bool:
        """Answer the cell's question: back to review. ``False``: this very answer was the last one
        given and nothing was asked since (a repeated call changes nothing)."""
        note = f"answer: {answer}"
        if self.status is not Status.INFORMATION_REQUESTED:
            if self._last_answer() == (by, note):
                return False
            raise IllegalTransition(f"the request is {self.status.replace('_', ' ')}: information can be "
                                    "provided only while the cell is asking for it")
        self.events.append(InformationProvided(self.id, answer, by, at))
        self._become(Status.IN_REVIEW, at, note, by)
        return True

    def _last_answer(self) -> tuple[str, str] | None:
        for h in reversed(self.history):
            if h.status is Status.INFORMATION_REQUESTED:
                return None  # a question came after the last answer
            if h.status is Status.IN_REVIEW and h.by == self.requester.user_id:
                return h.by, h.note
        return None

    def cancel(self, reason: str, by: str, at: datetime, tasking_before_window_hours: float = 0.0) -> bool:
        """Withdraw the request before it is ordered (a tasking: until ``tasking_before_window_hours``
        before its window starts). ``False``: it is cancelled already."""
        if self.status is Status.CANCELLED:
            return False
        if self.status in (Status.ORDERED, Status.ACQUIRING, Status.DELIVERED, Status.CLOSED):
            raise IllegalTransition(f"already {self.status}: it can no longer be cancelled")
        if self.status in (Status.REJECTED, Status.EXPIRED, Status.FAILED):
            raise IllegalTransition(f"already {self.status}: there is nothing left to cancel")
        if self.tasking is not None:
            until = self.tasking.window_start - timedelta(hours=tasking_before_window_hours)
            if at > until:
                raise IllegalTransition(
                    f"a tasking request can be cancelled only until {tasking_before_window_hours:g} h before its "
                    f"window starts, i.e. until {until.isoformat(timespec='minutes')}: it is too late to cancel it")
        self.events.append(RequestCancelled(self.id, reason, by, at))
        self._become(Status.CANCELLED, at, f"cancelled: {reason}", by)
        return True

    @property
    def expires_at(self) -> datetime | None:
        """When it expires if not ordered by then: the end of a tasking's window (an archive: never)."""
        return self.tasking.window_end if self.tasking is not None else None

    def expire(self, at: datetime) -> bool:
        """A tasking whose window ended before it was ordered: nothing can be acquired any more (its
        hold, if accepted, is released by arbitration). ``False``: not (or no longer) due."""
        if self.status not in EXPIRABLE or self.expires_at is None or self.expires_at > at:
            return False
        self._become(Status.EXPIRED, at, f"expired: its acquisition window ended on "
                     f"{self.expires_at.isoformat(timespec='minutes')} before it was ordered", SERVICE)
        return True

    def is_requester(self, user_id: str) -> bool:
        return self.requester.user_id == user_id
