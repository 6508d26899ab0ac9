"""What a request asks for, checked: its kind (archive scenes or a tasking), its area measured on the
ellipsoid and its constraints. One :class:`RequestSpec` is what a quote prices and what a submission
stores (``service_layer.specs.build_spec`` makes it from the HTTP body, asking the catalogue for the
archive scenes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Kind = Literal["archive", "tasking"]
Mode = Literal["mono", "stereo", "tristereo"]
Priority = Literal["standard", "high", "urgent"]
KINDS: tuple[Kind, ...] = ("archive", "tasking")
MODES: tuple[Mode, ...] = ("mono", "stereo", "tristereo")
PRIORITIES: tuple[Priority, ...] = ("standard", "high", "urgent")  # lowest first


@dataclass(frozen=True)
class Scene:
    """One Airbus archive scene picked in the catalogue, clipped to the requester's area if given."""

    item_id: str
    aoi: dict[str, Any]  # the part of the scene asked for (GeoJSON, WGS 84)
    area_km2: float
    acquired_at: datetime | None = None
    platform: str | None = None


@dataclass(frozen=True)
class Tasking:
    """A new acquisition: when, how clear, how steep, how many views, how urgent."""

    window_start: datetime
    window_end: datetime
    max_cloud_cover: float  # percent
    max_incidence_angle: float  # degrees
    mode: Mode = "mono"
    priority: Priority = "standard"


@dataclass(frozen=True)
class RequestSpec:
    kind: Kind
    title: str
    mission: str
    justification: str
    aoi: dict[str, Any]  # tasking: the area; archive: the union of the clipped scenes
    area_km2: float  # geodesic; archive: the sum of the scenes' areas
    funding_reference: str | None = None
    scenes: tuple[Scene, ...] = ()
    tasking: Tasking | None = None

    @property
    def mode(self) -> Mode:
        return self.tasking.mode if self.tasking else "mono"

    @property
    def priority(self) -> Priority:
        return self.tasking.priority if self.tasking else "standard"
