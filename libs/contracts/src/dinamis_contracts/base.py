from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Event payloads are read tolerantly: unknown fields are ignored, never an error."""

    model_config = ConfigDict(extra="ignore", frozen=True)
