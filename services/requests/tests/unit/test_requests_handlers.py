"""Submitting archive and tasking requests (checked, the archive scenes looked up in a catalogue,
quoted, nothing stored when any of it fails), applying upstream events, and the requester's answers
and cancellations, on an in-memory repository and a fake catalogue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from requests_service.domain.access import Actor
from requests_service.domain.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidAoi,
    InvalidScenes,
    InvalidTasking,
    NotEligible,
    NotRequester,
    RequestNotFound,
    UpstreamUnavailable,
)
from requests_service.domain.model import InformationProvided, RequestCancelled, RequestSubmitted
from requests_service.domain.rules import IntakeRules
from requests_service.service_layer import handlers
from requests_service.service_layer.handlers import (
    SubmitRequest,
    apply_event,
    cancel,
    provide_information,
    submit,
    visible_request,
    visible_requests,
)
from requests_service.service_layer.specs import build_spec

pytestmark = pytest.mark.usefixtures("priced")  # make_quote is tested on its own
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the ctx fixture's clock
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}
ALICE = Actor("alice", "ent-1", frozenset({"user"}))


def clip(lon: float, lat: float, size: float = 0.05) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                               [lon, lat + size], [lon, lat]]]}


def tasking_body(title: str = "Dunes", start_days: float = 3, days: float = 10, **tasking) -> dict:
    start = NOW + timedelta(days=start_days)
    return {"kind": "tasking", "title": title, "mission": "pleiades", "justification": "coastal erosion",
            "aoi": AOI, "tasking": {"window": {"start": start.isoformat(),
                                               "end": (start + timedelta(days=days)).isoformat()},
                                    "max_cloud_cover": 20, "max_incidence_angle": 30, **tasking}}


def archive_body(*scenes: dict, mission: str = "pleiades") -> dict:
    return {"kind": "archive", "title": "Dunes archive", "mission": mission, "justification": "dunes, 2021",
            "archive": {"scenes": list(scenes)}}


def cmd(user: str = "alice", key: str | None = None, body: dict | None = None) -> SubmitRequest:
    return SubmitRequest(body=body or tasking_body(), actor=Actor(user, "ent-1", frozenset({"user"})),
                         token="token-of-" + user, idempotency_key=key)


async def test_a_tasking_submission_stores_one_request_with_its_frozen_quote_and_publishes_it(ctx, repo, priced):
    request, created = await submit(ctx, cmd())
    assert created and request.status == "submitted" and request.kind == "tasking" and request.area_km2 > 80
    assert request.tasking.window_start == NOW + timedelta(days=3) and request.tasking.max_cloud_cover == 20
    assert request.justification == "coastal erosion" and request.quote.basis == "within the free quota"
    assert list(repo.rows) == [request.id]
    [event] = repo.published
    assert isinstance(event, RequestSubmitted) and event.quote == request.quote and event.tasking == request.tasking
    assert priced == [("tasking", "alice", "token-of-alice")]


async def test_an_archive_submission_clips_each_scene_and_measures_their_sum(ctx, repo, catalogue):
    request, _ = await submit(ctx, cmd(body=archive_body({"item_id": "pl-1", "aoi": clip(3.85, 43.65)},
                                                         {"item_id": "pl-2"})))
    assert [s.item_id for s in request.scenes] == ["pl-1", "pl-2"]
    assert request.scenes[0].area_km2 == pytest.approx(22.4, abs=0.2)  # the 0.05° clip inside the scene
    assert request.scenes[1].area_km2 == pytest.approx(357, abs=2)  # the whole 0.2° scene
    assert request.area_km2 == pytest.approx(sum(s.area_km2 for s in request.scenes), abs=0.01)
    assert request.aoi["type"] == "MultiPolygon" and request.scenes[0].platform == "pleiades-1a"
    assert catalogue.asked == [["pl-1", "pl-2"]]


async def test_a_clip_half_outside_its_scene_keeps_only_the_part_inside(ctx):
    spec = await build_spec(ctx, archive_body({"item_id": "pl-1", "aoi": clip(3.95, 43.75, 0.1)}))
    assert spec.scenes[0].area_km2 == pytest.approx(22.4, abs=0.3)  # a quarter of the 0.1° clip


@pytest.mark.parametrize(("scenes", "message"), [
    ([{"item_id": "nope-1"}, {"item_id": "pl-1"}, {"item_id": "nope-2"}],
     "archive.scenes: no airbus-archive scene nope-1, nope-2 in the catalogue: pick scenes from the catalogue's "
     "airbus-archive collection"),
    ([{"item_id": "sp-1"}],
     "archive.scenes[0]: sp-1 was acquired by spot-7, not by pleiades: pick scenes of the request's mission or "
     "change its mission"),
    ([{"item_id": "pl-1"}, {"item_id": "pl-1", "aoi": AOI}],
     "archive.scenes names pl-1 more than once: give each scene once (with one aoi covering all you want of it)"),
    ([{"item_id": "pl-1", "aoi": clip(10.0, 45.0)}],
     "archive.scenes[0] (pl-1): its aoi does not overlap the scene: draw the aoi inside the scene's footprint"),
    ([{"item_id": f"pl-{i}"} for i in range(6)],
     "archive.scenes has 6 scenes; at most 5 per request (one Airbus order): split it into several requests"),
])
async def test_archive_scenes_are_refused_with_what_to_change_and_nothing_is_stored(ctx, repo, scenes, message):
    with pytest.raises(InvalidScenes) as refused:
        await submit(ctx, cmd(body=archive_body(*scenes)))
    assert str(refused.value) == message
    assert repo.rows == {} and repo.published == []


async def test_a_clip_leaving_too_little_of_its_scene_is_refused_naming_the_scene(ctx, repo):
    with pytest.raises(InvalidAoi, match=r"^archive.scenes\[0\] \(pl-1\) clipped to its aoi covers 0\.89 km²"):
        await submit(ctx, cmd(body=archive_body({"item_id": "pl-1", "aoi": clip(3.99, 43.79, 0.02)})))
    assert repo.rows == {}


async def test_a_bad_clip_is_refused_before_the_catalogue_is_asked(ctx, catalogue):
    bowtie = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.7], [3.9, 43.6], [3.8, 43.7], [3.8, 43.6]]]}
    with pytest.raises(InvalidAoi, match=r"^archive.scenes\[0\].aoi crosses itself at 3.8500, 43.6500"):
        await build_spec(ctx, archive_body({"item_id": "pl-1", "aoi": bowtie}))
    assert catalogue.asked == []


async def test_the_catalogue_down_stores_nothing(ctx, repo, catalogue):
    catalogue.down = True
    with pytest.raises(UpstreamUnavailable):
        await submit(ctx, cmd(body=archive_body({"item_id": "pl-1"})))
    assert repo.rows == {} and repo.published == []


async def test_a_window_against_the_rules_stores_nothing(ctx, repo):
    with pytest.raises(InvalidTasking, match=r"tasking\.window\.start must be at least 2 days ahead"):
        await submit(ctx, cmd(body=tasking_body(start_days=1)))
    with pytest.raises(InvalidTasking, match=r"tasking\.window lasts 5\.0 days; it must last at least 7 days"):
        await submit(ctx, cmd(body=tasking_body(days=5)))
    assert repo.rows == {} and repo.published == []


async def test_the_rules_in_force_on_the_day_are_used(repo, entities, catalogue):
    from requests_service.service_layer.context import Requests
    seen = []

    def rules(day):
        seen.append(day)
        return IntakeRules(tasking_min_lead_days=0.5)

    ctx = Requests(requests=repo, entities=entities, catalogue=catalogue, clock=lambda: NOW, rules=rules)
    request, _ = await submit(ctx, cmd(body=tasking_body(start_days=1)))
    assert request.status == "submitted" and seen == [NOW.date()]


async def test_an_ineligible_entity_is_refused_before_anything_is_measured(ctx, repo, catalogue, priced):
    outsider = SubmitRequest(body=archive_body({"item_id": "pl-1"}), actor=Actor("eve", "ent-9", frozenset()))
    with pytest.raises(NotEligible):
        await submit(ctx, outsider)
    assert catalogue.asked == [] and priced == [] and repo.rows == {}


async def test_the_same_idempotency_key_and_body_return_the_same_request_without_quoting_again(ctx, repo, priced):
    first, created = await submit(ctx, cmd(key="k1"))
    again, created_again = await submit(ctx, cmd(key="k1"))
    assert (created, created_again) == (True, False)
    assert again.id == first.id and len(repo.rows) == 1 and len(repo.published) == 1 and len(priced) == 1


async def test_the_same_key_with_another_body_is_refused(ctx, repo):
    await submit(ctx, cmd(key="k1"))
    with pytest.raises(IdempotencyKeyReused):
        await submit(ctx, cmd(key="k1", body=tasking_body(title="Something else")))
    assert len(repo.rows) == 1


async def test_two_users_may_use_the_same_key(ctx, repo):
    a, _ = await submit(ctx, cmd("alice", key="k1"))
    b, _ = await submit(ctx, cmd("bob", key="k1"))
    assert a.id != b.id and len(repo.rows) == 2


async def test_an_upstream_event_is_applied_once(ctx, repo):
    request, _ = await submit(ctx, cmd())

    def review(r):
        r.review_opened("pleiades-science", r.submitted_at)

    assert await apply_event(ctx, request.id, "evt-1", review)
    assert not await apply_event(ctx, request.id, "evt-1", review)  # redelivered
    stored = await repo.get(request.id)
    assert [h.status for h in stored.history] == ["submitted", "in_review"]


async def test_an_event_about_an_unknown_request_is_an_error(ctx):
    with pytest.raises(RequestNotFound):
        await apply_event(ctx, "nope", "evt-1", lambda r: None)


# -- the requester's actions (issue 10) ---------------------------------------------------------
async def asked(ctx, question: str = "which season?"):
    request, _ = await submit(ctx, cmd())
    await apply_event(ctx, request.id, "opened", lambda r: r.review_opened("pleiades-science", r.submitted_at))
    await apply_event(ctx, request.id, f"asked-{question}", lambda r: r.decided(
        "information-requested", question, 0.0, "pleiades-science", r.submitted_at, "arbiter-1"))
    return request.id


def published(repo, kind):
    return [e for e in repo.published if isinstance(e, kind)]


async def test_the_requester_answers_and_the_request_goes_back_to_review(ctx, repo):
    request_id = await asked(ctx)
    answered = await provide_information(ctx, request_id, ALICE, "summer")
    stored = await repo.get(request_id)
    assert answered.status == stored.status == "in_review"
    assert (stored.history[-1].note, stored.history[-1].by) == ("answer: summer", "alice")
    assert [(e.answer, e.provided_by) for e in published(repo, InformationProvided)] == [("summer", "alice")]
    again = await provide_information(ctx, request_id, ALICE, "summer")  # a repeated call
    assert again.version == stored.version and len(published(repo, InformationProvided)) == 1


async def test_the_requester_cancels_once_and_a_second_cancel_answers_the_same_state(ctx, repo):
    request_id = await asked(ctx)
    cancelled = await cancel(ctx, request_id, ALICE, "funding withdrawn")
    again = await cancel(ctx, request_id, ALICE, "funding withdrawn")
    assert cancelled.status == again.status == "cancelled" and again.version == cancelled.version
    assert [(e.reason, e.cancelled_by) for e in published(repo, RequestCancelled)] == [("funding withdrawn", "alice")]
    with pytest.raises(IllegalTransition, match="the request is cancelled"):
        await provide_information(ctx, request_id, ALICE, "summer")


async def test_only_the_requester_acts_on_a_request(ctx, repo):
    request_id = await asked(ctx)
    stranger = Actor("eve", "ent-2", frozenset({"user"}))
    colleague = Actor("bob", "ent-1", frozenset({"user"}))
    arbiter = Actor("carol", None, frozenset({"arbiter"}), frozenset({"pleiades-science"}))
    for act in (provide_information, cancel):
        with pytest.raises(RequestNotFound):
            await act(ctx, request_id, stranger, "x")
        for other in (colleague, arbiter):  # they may read it, not act on it
            with pytest.raises(NotRequester, match=f"only the requester of {request_id} may"):
                await act(ctx, request_id, other, "x")
    assert (await repo.get(request_id)).status == "information_requested"


async def test_a_tasking_too_close_to_its_window_is_not_cancelled(ctx, repo):
    now = [NOW]
    ctx = dataclasses.replace(ctx, clock=lambda: now[0])
    request, _ = await submit(ctx, cmd(body=tasking_body(start_days=3)))
    now[0] = NOW + timedelta(days=1, hours=1)  # 47 h before the window
    with pytest.raises(IllegalTransition, match=r"can be cancelled only until 48 h before its window starts, "
                                                r"i\.e\. until 2026-03-02T09:00"):
        await cancel(ctx, request.id, ALICE, "too late")
    assert (await repo.get(request.id)).status == "submitted" and published(repo, RequestCancelled) == []


async def test_who_sees_which_request_and_what_each_lists(ctx, repo):
    mine, _ = await submit(ctx, cmd("alice"))
    colleagues, _ = await submit(ctx, cmd("bob"))
    await apply_event(ctx, mine.id, "opened", lambda r: r.review_opened("pleiades-science", r.submitted_at))
    other = SubmitRequest(body=tasking_body(), actor=Actor("eve", "ent-2", frozenset({"user"})))
    ctx.entities.rows["ent-2"] = ctx.entities.rows["ent-1"].__class__(
        entity_id="ent-2", name="Lab 2", kind="institutional", status="approved",
        eligible_missions=frozenset({"pleiades"}), version=1)
    theirs, _ = await submit(ctx, other)
    arbiter = Actor("carol", None, frozenset({"arbiter"}), frozenset({"pleiades-science"}))
    operator = Actor("oscar", None, frozenset({"operator"}))

    assert {r.id for r in await visible_requests(ctx, ALICE, None, 50, None)} == {mine.id, colleagues.id}
    assert {r.id for r in await visible_requests(ctx, arbiter, None, 50, None)} == {mine.id}
    assert {r.id for r in await visible_requests(ctx, operator, None, 50, None)} == {mine.id, colleagues.id, theirs.id}
    assert (await visible_request(ctx, colleagues.id, ALICE)).id == colleagues.id
    for actor, request_id in ((ALICE, theirs.id), (arbiter, colleagues.id)):
        with pytest.raises(RequestNotFound, match=f"no request {request_id} visible to you"):
            await visible_request(ctx, request_id, actor)


async def test_the_queue_place_is_asked_only_while_in_review_and_its_failure_is_no_error(ctx, repo):
    from requests_service.service_layer.ports import QueuePlace

    class Queues:
        def __init__(self):
            self.asked, self.fail = [], False

        async def place(self, token, request_id):
            self.asked.append((token, request_id))
            if self.fail:
                raise ConnectionError("arbitration is away")
            return QueuePlace("pleiades-science", 3, NOW.date())

    queues = Queues()
    ctx = ctx.__class__(**{**ctx.__dict__, "queues": queues})
    request, _ = await submit(ctx, cmd())
    assert await handlers.queue_place(ctx, request, "tok") == QueuePlace("pleiades-science", 3, NOW.date())
    queues.fail = True
    assert await handlers.queue_place(ctx, request, "tok") is None
    cancelled = await cancel(ctx, request.id, ALICE, "no longer needed")
    assert await handlers.queue_place(ctx, cancelled, "tok") is None
    assert queues.asked == [("tok", request.id)] * 2


async def test_an_action_racing_another_change_decides_again_on_the_newer_state(ctx, repo):
    """A replica's consumer moves the request between the read and the write: the write is refused,
    the request read again, and the action decided on what it is now."""
    request_id = await asked(ctx)
    real_save = repo.save

    async def save_after_a_decision(request, applied_event=None):
        repo.save = real_save
        await apply_event(ctx, request_id, "accepted", lambda r: r.decided(
            "accepted", "ok", 12.0, "pleiades-science", r.submitted_at, "arbiter-1"))
        return await real_save(request, applied_event)

    repo.save = save_after_a_decision
    with pytest.raises(IllegalTransition, match="the request is accepted"):
        await provide_information(ctx, request_id, ALICE, "summer")
    assert published(repo, InformationProvided) == []


async def test_the_expiry_sweep_expires_only_taskings_whose_window_ended_unordered(ctx, repo):
    due, _ = await submit(ctx, cmd(body=tasking_body("due", start_days=3, days=7)))
    later, _ = await submit(ctx, cmd(body=tasking_body("later", start_days=3, days=30)))
    ordered, _ = await submit(ctx, cmd(body=tasking_body("ordered", start_days=3, days=7)))
    stored = repo.rows[ordered.id]
    stored.ordered("ord-1", NOW)
    await repo.save(stored)
    repo.published.clear()
    after_window = dataclasses.replace(ctx, clock=lambda: NOW + timedelta(days=11))
    assert await handlers.expire_overdue(after_window) == 1
    assert [repo.rows[r.id].status for r in (due, later, ordered)] == ["expired", "submitted", "ordered"]
    assert [(e.request_id, e.status) for e in repo.published] == [(due.id, "expired")]
    assert await handlers.expire_overdue(after_window) == 0  # once
