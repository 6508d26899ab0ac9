"""HTTP schemas of the requests API (``<Entity>Create`` / ``<Entity>Public``).

POST /api/requests and POST /api/requests/quotes take the same body, :data:`RequestCreate`: an
archive request (scenes of the catalogue's ``airbus-archive`` collection, each optionally clipped)
or a tasking request (an area and a window), told apart by ``kind``. Every string and list is
bounded here; what depends on the rules in force (areas, widths, windows, the number of scenes) is
checked by the domain with a message naming the field."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from requests_service.domain.aoi import CRS_REFUSED
from requests_service.domain.model import Party, Request
from requests_service.domain.quote import Quote

if TYPE_CHECKING:
    from requests_service.service_layer.ports import QueuePlace

MAX_ANSWER = 4000
MAX_REASON = 1000
MAX_JUSTIFICATION = 4000
MAX_SCENES_IN_BODY = 50  # a bound before any work; the rules in force allow fewer (IntakeRules.max_scenes)
MAX_RINGS = 1000  # polygons × rings bound before parsing; vertices are counted by the rules in force

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AreaCreate(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS 84 ([longitude, latitude])."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1, max_length=MAX_RINGS)
    bbox: list[float] | None = Field(default=None, max_length=6)

    @model_validator(mode="before")
    @classmethod
    def no_crs(cls, data: Any) -> Any:
        """RFC 7946 has no ``crs``: say so rather than 'extra input' (the domain reads the rest strictly)."""
        if isinstance(data, dict) and "crs" in data:
            raise ValueError(CRS_REFUSED)
        return data

    def geojson(self) -> dict[str, Any]:
        return {"type": self.type, "coordinates": self.coordinates}


class SceneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=200, description="an item id of the airbus-archive collection")
    aoi: AreaCreate | None = Field(default=None, description="the part of the scene wanted (default: all of it)")


class ArchiveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenes: list[SceneCreate] = Field(min_length=1, max_length=MAX_SCENES_IN_BODY,
                                      description="1 to 5 scenes (the intake rules in force)")


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime


class TaskingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: WindowCreate
    max_cloud_cover: float = Field(ge=0, le=100, description="percent")
    max_incidence_angle: float = Field(ge=0, le=60, description="degrees")
    mode: Literal["mono", "stereo", "tristereo"] = "mono"
    priority: Literal["standard", "high", "urgent"] = "standard"


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text
    mission: Literal["pleiades", "spot-6-7"]
    justification: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                    max_length=MAX_JUSTIFICATION)] = Field(
        description="why this imagery is needed (the cell reads it)")
    funding_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                        max_length=100)] | None = Field(
        default=None, description="the project paying beyond the quota, e.g. ANR-22-XXXX")


class ArchiveRequestCreate(_Common):
    kind: Literal["archive"]
    archive: ArchiveCreate


class TaskingRequestCreate(_Common):
    kind: Literal["tasking"]
    aoi: AreaCreate
    tasking: TaskingCreate


RequestCreate = Annotated[ArchiveRequestCreate | TaskingRequestCreate, Field(discriminator="kind")]


class InformationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER)] = Field(
        description="the answer to the cell's question")


class CancellationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)] = Field(
        description="why the request is withdrawn")


class HistoryPublic(BaseModel):
    status: str
    at: datetime
    note: str
    by: str = Field(description="the requester for their own steps, else the decider or the service that said so")


class ScenePublic(BaseModel):
    item_id: str
    aoi: dict[str, Any] = Field(description="the part of the scene asked for")
    area_km2: float
    acquired_at: datetime | None
    platform: str | None


class WindowPublic(BaseModel):
    start: datetime
    end: datetime


class TaskingPublic(BaseModel):
    window: WindowPublic
    max_cloud_cover: float
    max_incidence_angle: float
    mode: str
    priority: str


class DeliveredOfferPublic(BaseModel):
    item_id: str
    collection: str
    acquired_at: datetime
    coverage: float = Field(description="share of the requested area it covers, 0..1")
    cloud_cover: float | None
    incidence_angle: float | None


class JoinOfferPublic(BaseModel):
    request_id: str
    overlap_km2: float
    window_start: datetime
    window_end: datetime
    mode: str


class OffersPublic(BaseModel):
    delivered: list[DeliveredOfferPublic] = Field(description="delivered imagery covering the area: free to reuse")
    join: list[JoinOfferPublic] = Field(description="pending tasking requests overlapping in space and time")


class QuotePublic(BaseModel):
    area_km2: float
    free_km2: float = Field(description="within the free quota")
    over_quota_km2: float
    billed_km2: float = Field(description="the over-quota km² raised to the invoicing minimum")
    price_eur: str = Field(description="decimal, e.g. \"123.45\"")
    currency: Literal["EUR"] = "EUR"
    payer: str
    basis: str
    invoicing_minimum_km2: float
    cell: str
    period: str
    package_id: str | None
    quoted_at: datetime
    valid_until: datetime
    offers: OffersPublic

    @classmethod
    def of(cls, q: Quote) -> QuotePublic:
        return cls(
            area_km2=q.area_km2, free_km2=q.free_km2, over_quota_km2=q.over_quota_km2, billed_km2=q.billed_km2,
            price_eur=f"{q.price_eur:.2f}", payer=q.payer, basis=q.basis, invoicing_minimum_km2=q.invoicing_minimum_km2,
            cell=q.cell, period=q.period, package_id=q.package_id, quoted_at=q.quoted_at, valid_until=q.valid_until,
            offers=OffersPublic(
                delivered=[DeliveredOfferPublic(item_id=o.item_id, collection=o.collection, acquired_at=o.acquired_at,
                                                coverage=o.coverage, cloud_cover=o.cloud_cover,
                                                incidence_angle=o.incidence_angle) for o in q.offers.delivered],
                join=[JoinOfferPublic(request_id=o.request_id, overlap_km2=o.overlap_km2,
                                      window_start=o.window_start, window_end=o.window_end, mode=o.mode)
                      for o in q.offers.join]))


class QueuePublic(BaseModel):
    cell: str
    position: int = Field(description="1 = decided next")
    expected_decision_date: date = Field(description="from the cell's recent pace")


class RequestPublic(BaseModel):
    id: str
    kind: str
    title: str
    mission: str
    justification: str
    funding_reference: str | None
    aoi: dict[str, Any] = Field(description="tasking: the area; archive: the union of the clipped scenes")
    area_km2: float = Field(description="geodesic; archive: the sum of the clipped scenes")
    scenes: list[ScenePublic]
    tasking: TaskingPublic | None
    priority: str
    quote: QuotePublic | None = Field(description="the quote the request was submitted with (frozen)")
    status: str
    who_must_act: Party | None = Field(description="whose move it is: requester, cell, operator, airbus; "
                                                   "null when nobody's (rejected, cancelled)")
    queue: QueuePublic | None = Field(default=None, description="its place in the cell's queue while in review "
                                                                "(null otherwise, or when arbitration cannot say)")
    cell: str | None
    order_id: str | None
    accepted_area_km2: float | None
    coverage_percent: float | None = Field(default=None, description="a tasking being acquired: the share of "
                                                                     "its area covered so far")
    delivered_item: str | None = Field(default=None, description="once delivered: `<collection>/<item id>` in "
                                                                 "the catalogue (STAC)")
    entity_id: str | None
    submitted_at: datetime
    history: list[HistoryPublic]

    @classmethod
    def of(cls, r: Request, queue: QueuePlace | None = None) -> RequestPublic:
        t = r.tasking
        return cls(
            id=r.id, kind=r.kind, title=r.title, mission=r.mission, justification=r.justification,
            funding_reference=r.funding_reference, aoi=r.aoi, area_km2=r.area_km2,
            scenes=[ScenePublic(item_id=s.item_id, aoi=s.aoi, area_km2=s.area_km2, acquired_at=s.acquired_at,
                                platform=s.platform) for s in r.scenes],
            tasking=TaskingPublic(window=WindowPublic(start=t.window_start, end=t.window_end),
                                  max_cloud_cover=t.max_cloud_cover, max_incidence_angle=t.max_incidence_angle,
                                  mode=t.mode, priority=t.priority) if t else None,
            priority=r.priority, quote=QuotePublic.of(r.quote) if r.quote else None,
            status=str(r.status), who_must_act=r.who_must_act,
            queue=QueuePublic(cell=queue.cell, position=queue.position,
                              expected_decision_date=queue.expected_decision_date) if queue else None,
            cell=r.cell, order_id=r.order_id, accepted_area_km2=r.accepted_area_km2,
            coverage_percent=r.coverage_percent, delivered_item=r.delivered_item,
            entity_id=r.requester.entity_id, submitted_at=r.submitted_at,
            history=[HistoryPublic(status=str(h.status), at=h.at, note=h.note, by=h.by) for h in r.history],
        )


class RequestPage(BaseModel):
    items: list[RequestPublic]
    next_before: datetime | None = Field(description="pass as ?before= for the next page")


class MissionEligibility(BaseModel):
    mission: str
    eligible: bool
    reason: str | None = Field(description="why not, in words the requester can act on")


class EligibilityPublic(BaseModel):
    entity_id: str | None
    missions: list[MissionEligibility]
