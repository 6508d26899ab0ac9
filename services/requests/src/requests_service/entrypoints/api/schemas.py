"""HTTP schemas of the requests API (``<Entity>Create`` / ``<Entity>Public``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from requests_service.domain.model import Party, Request

MAX_ANSWER = 4000
MAX_REASON = 1000


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    mission: Literal["pleiades", "spot-6-7"]
    aoi: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon in WGS 84, at most 999 vertices")


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


class RequestPublic(BaseModel):
    id: str
    title: str
    mission: str
    aoi: dict[str, Any]
    area_km2: float
    status: str
    who_must_act: Party | None = Field(description="whose move it is: requester, cell, operator, airbus; "
                                                   "null when nobody's (rejected, cancelled)")
    cell: str | None
    order_id: str | None
    accepted_area_km2: float | None
    entity_id: str | None
    submitted_at: datetime
    history: list[HistoryPublic]

    @classmethod
    def of(cls, r: Request) -> RequestPublic:
        return cls(
            id=r.id, title=r.title, mission=r.mission, aoi=r.aoi, area_km2=r.area_km2, status=str(r.status),
            who_must_act=r.who_must_act, cell=r.cell, order_id=r.order_id, accepted_area_km2=r.accepted_area_km2,
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
