"""make up's demo lab: reused while approved, otherwise a new one whose addresses and e-mails are
its own, whatever state the development data is in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from dinamis_cli.demo import demo_entity
from dinamis_cli.stack.mail import listen
from dinamis_cli.stack.membership import Organisation, SinkReader, link_token
from dinamis_cli.stack.profile import Profile
from dinamis_testkit.inprocess import free_port
from dinamis_testkit.mail import send


class Platform:
    """What the demo step sees of the platform: entity statuses, and subscriptions made."""

    def __init__(self, **statuses: str) -> None:
        self.statuses = statuses
        self.tags: list[str] = []

    def status_of(self, entity_id: str) -> str | None:
        return self.statuses.get(entity_id)

    def subscribe(self, tag: str) -> str:
        self.tags.append(tag)
        entity_id = f"ent-{len(self.tags)}"
        self.statuses[entity_id] = "approved"
        return entity_id


def test_the_first_make_up_subscribes_a_lab_and_keeps_its_id(tmp_path):
    kept, platform = tmp_path / "dev" / "demo-entity", Platform()
    assert demo_entity(kept, platform.status_of, platform.subscribe) == "ent-1"
    assert kept.read_text() == "ent-1"
    assert demo_entity(kept, platform.status_of, platform.subscribe) == "ent-1"  # the next make up reuses it
    assert len(platform.tags) == 1


def test_a_suspended_rejected_or_vanished_lab_is_replaced_each_time_under_a_new_tag(tmp_path):
    kept = tmp_path / "demo-entity"
    for status in ("suspended", "rejected", "awaiting-review", None):
        platform = Platform(**({"ent-old": status} if status else {}))
        kept.write_text("ent-old")
        assert demo_entity(kept, platform.status_of, platform.subscribe) == "ent-1", status
        assert kept.read_text() == "ent-1"
    platform = Platform()
    for _ in range(3):
        kept.write_text("ent-old")  # e.g. the administrator suspends each new demo lab
        demo_entity(kept, platform.status_of, platform.subscribe)
    assert len(set(platform.tags)) == 3 and all(t.startswith("demo-") for t in platform.tags)
    addresses = [Organisation.sample("scientific", t).correspondent for t in platform.tags]
    assert len(set(addresses)) == 3, "each attempt's correspondent has an address of its own"


def test_an_empty_kept_file_means_no_lab_yet(tmp_path):
    kept, platform = tmp_path / "demo-entity", Platform()
    kept.write_text("\n")
    assert demo_entity(kept, platform.status_of, platform.subscribe) == "ent-1"


async def test_the_sink_reader_reads_only_mail_that_arrived_after_the_request(tmp_path):
    port = free_port()
    profile = Profile("unit", tmp_path, {"mail": port})
    sink = await listen(port, profile.path("mail"))
    try:
        await asyncio.to_thread(send, port, "correspondant.demo@example.org", "an earlier attempt: ?token=old")
        read = SinkReader(profile, timeout=1)
        read.mark()  # the request that sends the e-mail is made now
        await asyncio.to_thread(send, port, "someone.else@example.org", "?token=not-yours")
        await asyncio.to_thread(send, port, "correspondant.demo@example.org", "this attempt: ?token=new")
        assert link_token(await read("correspondant.demo@example.org")) == "new"

        read.mark()  # a request whose e-mail never comes: the old ones are not taken for it
        with pytest.raises(TimeoutError):
            await read("correspondant.demo@example.org")
    finally:
        sink.close()


def test_the_demo_requests_are_archive_requests_within_the_free_quota_and_one_tasking():
    import shapely
    from dinamis_cli.catalogue import ARCHIVE_SCENES
    from dinamis_cli.demo import requests_of
    from pyproj import Geod

    today = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    made = requests_of("ent-1", today)
    scenes = {s.id: s for s in ARCHIVE_SCENES}
    archive = [b for _, b in made if b["kind"] == "archive"]
    assert [b["title"] for b in archive] == ["Montpellier littoral", "Rade de Brest", "Guadeloupe mangroves"]
    for body in archive:
        [picked] = body["archive"]["scenes"]
        scene = scenes[picked["item_id"]]
        assert body["mission"] == scene.mission and body["justification"]
        clip = shapely.geometry.shape(picked["aoi"])
        assert shapely.geometry.shape(scene.footprint).contains(clip)
        km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(clip)[0]) / 1e6
        assert 25 <= km2 <= (500 if scene.mission == "pleiades" else 5000)  # invoicing minimum, free quota
    [tasking] = [b for _, b in made if b["kind"] == "tasking"]
    start, end = (datetime.fromisoformat(tasking["tasking"]["window"][k]) for k in ("start", "end"))
    assert start - today >= timedelta(days=2) and end - start >= timedelta(days=7)
    # the same keys and bodies on a second make up the same day; the tasking is a new one another day
    assert requests_of("ent-1", today.replace(hour=9)) == made
    later = requests_of("ent-1", today + timedelta(days=1))
    assert [k for k, _ in later][:3] == [k for k, _ in made][:3] and later[3][0] != made[3][0]
