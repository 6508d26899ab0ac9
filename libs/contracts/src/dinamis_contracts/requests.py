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


Kind = Literal["archive", "tasking"]
Mode = Literal["mono", "stereo", "tristereo"]
Priority = Literal["standard", "high", "urgent"]


class SceneV1(Payload):
    """An Airbus archive scene of an archive request, clipped to the requester's area."""

    item_id: str
    aoi: dict[str, Any]
    area_km2: float
    acquired_at: datetime | None = None


class TaskingV1(Payload):
    window_start: datetime
    window_end: datetime
    max_cloud_cover: float
    max_incidence_angle: float
    mode: Mode = "mono"
    priority: Priority = "standard"


class DeliveredOfferV1(Payload):
    item_id: str
    collection: str
    acquired_at: datetime
    coverage: float
    cloud_cover: float | None = None
    incidence_angle: float | None = None


class JoinOfferV1(Payload):
    request_id: str
    overlap_km2: float
    window_start: datetime
    window_end: datetime
    mode: str


class QuoteV1(Payload):
    """The quote a request was submitted with (frozen): money as a decimal string, EUR."""

    area_km2: float
    free_km2: float
    over_quota_km2: float
    billed_km2: float
    price_eur: str
    payer: str
    basis: str
    invoicing_minimum_km2: float
    cell: str
    period: str
    quoted_at: datetime
    valid_until: datetime
    package_id: str | None = None
    delivered_offers: list[DeliveredOfferV1] = []
    join_offers: list[JoinOfferV1] = []


class RequestSubmittedV1(Payload):
    request_id: str
    title: str
    mission: Mission
    aoi: dict[str, Any]
    area_km2: float
    requester: Requester
    submitted_at: datetime
    # additive (issue 10): what is asked, why, and the quote it was submitted with
    kind: Kind = "tasking"
    justification: str = ""
    funding_reference: str | None = None
    scenes: list[SceneV1] = []
    tasking: TaskingV1 | None = None
    priority: Priority = "standard"
    quote: QuoteV1 | None = None


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
