"""Events of the request-intake domain (producer: requests service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from dinamis_contracts.base import Payload

TOPIC = "requests.request.events.v1"
SOURCE = "/dinamis/requests"
REQUEST_SUBMITTED = "fr.dinamis.requests.request.submitted.v1"
REQUEST_STATUS_CHANGED = "fr.dinamis.requests.request.status-changed.v1"
REQUEST_CANCELLED = "fr.dinamis.requests.request.cancelled.v1"
INFORMATION_PROVIDED = "fr.dinamis.requests.request.information-provided.v1"

Mission = Literal["pleiades", "spot-6-7"]
EntityCategory = Literal["scientific", "institutional"]


class Requester(Payload):
    user_id: str
    entity_id: str | None = None
    entity_category: EntityCategory = "institutional"


class RequestSubmittedV1(Payload):
    request_id: str
    title: str
    mission: Mission
    aoi: dict[str, Any]
    area_km2: float
    requester: Requester
    submitted_at: datetime


class RequestStatusChangedV1(Payload):
    """For requesters' notifications and partner systems: every move of a request's status."""

    request_id: str
    status: str
    previous_status: str
    cell: str | None = None
    order_id: str | None = None
    changed_at: datetime


class RequestCancelledV1(Payload):
    """The requester withdrew the request (before it was ordered): its case closes, its hold is released."""

    request_id: str
    reason: str
    cancelled_by: str
    cancelled_at: datetime


class InformationProvidedV1(Payload):
    """The requester answered the cell's request for information: the case goes back to review."""

    request_id: str
    answer: str
    provided_by: str
    provided_at: datetime
