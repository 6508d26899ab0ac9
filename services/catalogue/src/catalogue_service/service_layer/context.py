"""What every use case and router gets: the STAC index, the acquisitions log and the limits of a search."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalogue_service.domain.limits import SearchLimits
from catalogue_service.service_layer.ports import AcquisitionLog, StacIndex


@dataclass(frozen=True)
class Catalogue:
    stac: StacIndex
    acquisitions: AcquisitionLog
    limits: SearchLimits = field(default_factory=SearchLimits)  # what one search may ask (settings)
    retry_after_seconds: int = 2  # of a 503 when the index is away or too slow (settings)
