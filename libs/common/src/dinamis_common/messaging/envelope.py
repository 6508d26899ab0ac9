"""CloudEvents 1.0 in Kafka *binary* mode.

Attributes travel as ``ce_*`` headers, the data as the JSON record value, the aggregate id
as the record key (so one aggregate's events stay ordered in one partition).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from uuid6 import uuid7

CONTENT_TYPE = "application/json"


class MalformedEvent(ValueError):
    """A record that is not a CloudEvent we can read: never retried, sent to the dead-letter topic."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid7()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    specversion: str = "1.0"
    datacontenttype: str = CONTENT_TYPE

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": self.specversion,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "content-type": self.datacontenttype,
        }

    def body(self) -> bytes:
        # UTF-8 as is (an "é" is 2 bytes, not a 6-byte escape); NaN and infinity are not JSON
        return json.dumps(self.data, separators=(",", ":"), default=str, ensure_ascii=False,
                          allow_nan=False).encode()

    @classmethod
    def from_record(cls, headers: dict[str, Any], body: bytes) -> CloudEvent:
        h = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers.items()}
        missing = [a for a in ("ce_id", "ce_type", "ce_source", "ce_specversion") if a not in h]
        if missing:
            raise MalformedEvent(f"not a CloudEvent: missing header(s) {', '.join(missing)}")
        try:
            data = json.loads(body) if body else {}
            time = datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00")) if "ce_time" in h else None
        except ValueError as exc:
            raise MalformedEvent(f"unreadable CloudEvent {h['ce_id']}: {exc}") from exc
        if not isinstance(data, dict):
            raise MalformedEvent(f"CloudEvent {h['ce_id']} data is not a JSON object")
        return cls(
            type=h["ce_type"],
            source=h["ce_source"],
            subject=h.get("ce_subject", ""),
            data=data,
            id=h["ce_id"],
            time=time or datetime.now(UTC),
            specversion=h["ce_specversion"],
            datacontenttype=h.get("content-type", CONTENT_TYPE),
        )
