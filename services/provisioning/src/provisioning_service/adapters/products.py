"""The package reader of the flow (port ``ProductReader``) over ``adapters/dimap.py``."""

from __future__ import annotations

from typing import Any

from provisioning_service.adapters import dimap
from provisioning_service.domain.delivery import ProductFile


class DimapProductReader:
    def unpack(self, package: bytes) -> dict[str, ProductFile]:
        return dimap.unpack(package)

    def item(self, metadata: bytes, hrefs: dict[str, str], *, request_id: str, order_id: str,
             collection: str) -> dict[str, Any]:
        return dimap.stac_item(dimap.read(metadata), hrefs, request_id=request_id, order_id=order_id,
                               collection=collection)
