"""Request bodies of the API (docs/airbus-api.md), bounded before anything else looks at them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mission = Literal["PLEIADES", "SPOT"]
Mode = Literal["mono", "stereo", "tristereo"]


class Window(BaseModel):
    start: datetime
    end: datetime


class ArchiveItem(BaseModel):
    scene_id: str = Field(min_length=1, max_length=200)
    aoi: dict[str, Any]


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_reference: str | None = Field(default=None, max_length=200)
    kind: Literal["archive", "tasking"]
    mission: Mission
    items: list[ArchiveItem] | None = Field(default=None, max_length=50)
    aoi: dict[str, Any] | None = None
    feasibility_id: str | None = Field(default=None, max_length=100)
    window: Window | None = None
    mode: Mode = "mono"
    max_cloud_cover: float | None = Field(default=None, ge=0, le=100)
    max_incidence_angle: float | None = Field(default=None, ge=0, le=90)
    priority: str | None = Field(default=None, max_length=50)


class FeasibilityBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mission: Mission
    aoi: dict[str, Any]
    window: Window
    max_cloud_cover: float | None = Field(default=None, ge=0, le=100)
    max_incidence_angle: float | None = Field(default=None, ge=0, le=90)
    mode: Mode = "mono"
    priority: str | None = Field(default=None, max_length=50)


class FaultsBody(BaseModel):
    """``PUT /_simulator/faults``: shares of 5xx, time-outs and 429, and the seed they are drawn from."""

    model_config = ConfigDict(populate_by_name=True)

    server_error: float = Field(default=0.0, ge=0, le=1, alias="5xx")
    timeout: float = Field(default=0.0, ge=0, le=1)
    too_many: float = Field(default=0.0, ge=0, le=1, alias="429")
    seed: int = 0
    corrupt_packages: bool = Field(default=False, description="deliver truncated zips")
