"""Demo data of ``dinamis up``: a research lab subscribed and approved through the public API
(its id kept in ``<state>/demo-entity``), then four requests of one of its members: three archive
requests over the named Airbus archive scenes (``catalogue.ARCHIVE_SCENES``, loaded before), each
within the free quota so that the dev profile's rule accepts it and it goes on to ``ordered``, and a
tasking request, which waits in its cell's queue for an arbiter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from dinamis_cli import stack
from dinamis_cli.catalogue import ARCHIVE_SCENES, square

JUSTIFICATION = ("Coastal and wetland change monitoring of the lab's ANR project: very high resolution "
                 "images of the study sites.")
SCENES = {s.place: s for s in ARCHIVE_SCENES}
# (title, scene, km of the square clipped at the scene's centre): 36 to 64 km², within the free quota
ARCHIVE = [("Montpellier littoral", "Montpellier littoral", 6), ("Rade de Brest", "Rade de Brest", 8),
           ("Guadeloupe mangroves", "Guadeloupe mangroves", 6)]


def archive_body(title: str, place: str, clip_km: float) -> dict[str, Any]:
    scene = SCENES[place]
    return {"kind": "archive", "title": title, "mission": scene.mission, "justification": JUSTIFICATION,
            "funding_reference": "ANR-22-CE01-0001",
            "archive": {"scenes": [{"item_id": scene.id, "aoi": square(scene.lon, scene.lat, clip_km)}]}}


def tasking_body(today: datetime) -> dict[str, Any]:
    """A stereo acquisition of the Camargue over two weeks starting a week after ``today``'s date
    (a new body each day: its Idempotency-Key carries that date)."""
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=7)
    return {"kind": "tasking", "title": "Camargue, stereo for a digital surface model", "mission": "pleiades",
            "justification": JUSTIFICATION, "funding_reference": "ANR-22-CE01-0001",
            "aoi": square(4.55, 43.5, 8),
            "tasking": {"window": {"start": start.isoformat(), "end": (start + timedelta(days=14)).isoformat()},
                        "max_cloud_cover": 10, "max_incidence_angle": 20, "mode": "stereo",
                        "priority": "standard"}}


def requests_of(entity_id: str, today: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(Idempotency-Key, body) of each demo request."""
    archive = [(f"demo-{entity_id}-archive-{n}", archive_body(*a)) for n, a in enumerate(ARCHIVE)]
    return [*archive, (f"demo-{entity_id}-tasking-{today:%Y%m%d}", tasking_body(today))]


def demo_entity(kept: Path, status_of: Callable[[str], str | None], subscribe: Callable[[str], str]) -> str:
    """The lab kept in ``kept`` while it is still approved; otherwise (none yet, suspended,
    rejected, or the data wiped) a new one subscribed under a tag of this attempt's own, so that
    neither its addresses nor their e-mails are an earlier attempt's."""
    entity_id = kept.read_text().strip() if kept.exists() else ""
    if entity_id and status_of(entity_id) == "approved":
        return entity_id
    entity_id = subscribe(f"demo-{uuid.uuid4().hex[:8]}")
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(entity_id)
    return entity_id


def entity_status(profile: stack.Profile, entity_id: str) -> str | None:
    """The entity's status as an administrator sees it; ``None`` when the platform does not know it."""
    admin = stack.mint_token(profile, "admin-scientific", None, ["admin"])
    r = httpx.get(f"{profile.service_url('gateway')}/api/accounts/entities/{entity_id}", timeout=15,
                  headers={"authorization": f"Bearer {admin}"})
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.json()["status"]


def load(profile: stack.Profile, warn: Callable[[str], None] = print) -> str:
    """The demo lab (reused or new) and its requests (idempotent); returns the lab's id. The named
    archive scenes must be in the catalogue already (``catalogue.load_archive_scenes``)."""
    from dinamis_cli.stack.membership import approved_in_stack

    entity_id = demo_entity(profile.path("demo-entity"), lambda e: entity_status(profile, e),
                            lambda tag: asyncio.run(approved_in_stack(profile, "scientific", tag)))
    token = stack.mint_token(profile, "demo-user", entity_id, ["user"], category="scientific")
    with httpx.Client(base_url=profile.service_url("gateway"), headers={"authorization": f"Bearer {token}"},
                      timeout=15) as api:
        for key, body in requests_of(entity_id, datetime.now(UTC)):
            r = api.post("/api/requests", headers={"Idempotency-Key": key}, json=body)
            if r.status_code not in (200, 201):
                warn(f"demo request {body['title']!r} refused: {r.status_code} {r.text}")
    return entity_id
