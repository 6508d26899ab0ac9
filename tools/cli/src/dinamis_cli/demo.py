"""Demo data of ``dinamis up``: a research lab subscribed and approved through the public API
(its id kept in ``<state>/demo-entity``), then three requests of one of its members."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from dinamis_cli import stack

REQUESTS = [
    ("Montpellier littoral", "pleiades", [[3.8, 43.5], [3.95, 43.5], [3.95, 43.6], [3.8, 43.6], [3.8, 43.5]]),
    ("Rade de Brest", "spot-6-7", [[-4.6, 48.3], [-4.4, 48.3], [-4.4, 48.4], [-4.6, 48.4], [-4.6, 48.3]]),
    ("Guadeloupe mangroves", "pleiades", [[-61.6, 16.2], [-61.5, 16.2], [-61.5, 16.3], [-61.6, 16.3],
                                           [-61.6, 16.2]]),
]


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
    """The demo lab (reused or new) and its requests (idempotent); returns the lab's id."""
    from dinamis_cli.stack.membership import approved_in_stack

    entity_id = demo_entity(profile.path("demo-entity"), lambda e: entity_status(profile, e),
                            lambda tag: asyncio.run(approved_in_stack(profile, "scientific", tag)))
    token = stack.mint_token(profile, "demo-user", entity_id, ["user"], category="scientific")
    with httpx.Client(base_url=profile.service_url("gateway"), headers={"authorization": f"Bearer {token}"},
                      timeout=15) as api:
        for n, (title, mission, ring) in enumerate(REQUESTS):
            r = api.post("/api/requests", headers={"Idempotency-Key": f"demo-{entity_id}-{n}"},
                         json={"title": title, "mission": mission, "aoi": {"type": "Polygon", "coordinates": [ring]}})
            if r.status_code not in (200, 201):
                warn(f"demo request {title!r} refused: {r.status_code} {r.text}")
    return entity_id
