"""What every use case and router gets: the STAC index and the acquisitions log."""

from __future__ import annotations

from dataclasses import dataclass

from catalogue_service.service_layer.ports import AcquisitionLog, StacIndex


@dataclass(frozen=True)
class Catalogue:
    stac: StacIndex
    acquisitions: AcquisitionLog
