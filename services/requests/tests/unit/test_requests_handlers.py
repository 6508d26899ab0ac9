"""Submitting requests, applying upstream events, and the requester's answers and cancellations, on an
in-memory repository."""

from __future__ import annotations

import pytest
from requests_service.domain.access import Actor
from requests_service.domain.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidAoi,
    NotRequester,
    RequestNotFound,
)
from requests_service.domain.model import InformationProvided, RequestCancelled
from requests_service.service_layer.handlers import (
    SubmitRequest,
    apply_event,
    cancel,
    provide_information,
    submit,
)

AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def cmd(user: str = "alice", key: str | None = None, title: str = "Dunes") -> SubmitRequest:
    return SubmitRequest(title=title, mission="pleiades", aoi=AOI, user_id=user, entity_id="ent-1",
                         idempotency_key=key)


async def test_a_submission_stores_one_request_and_publishes_its_submission(ctx, repo):
    request, created = await submit(ctx, cmd())
    assert created and request.status == "submitted" and request.area_km2 > 80
    assert list(repo.rows) == [request.id]
    assert len(repo.published) == 1


async def test_the_same_idempotency_key_and_body_return_the_same_request(ctx, repo):
    first, created = await submit(ctx, cmd(key="k1"))
    again, created_again = await submit(ctx, cmd(key="k1"))
    assert (created, created_again) == (True, False)
    assert again.id == first.id and len(repo.rows) == 1 and len(repo.published) == 1


async def test_the_same_key_with_another_body_is_refused(ctx, repo):
    await submit(ctx, cmd(key="k1"))
    with pytest.raises(IdempotencyKeyReused):
        await submit(ctx, cmd(key="k1", title="Something else"))
    assert len(repo.rows) == 1


async def test_two_users_may_use_the_same_key(ctx, repo):
    a, _ = await submit(ctx, cmd("alice", key="k1"))
    b, _ = await submit(ctx, cmd("bob", key="k1"))
    assert a.id != b.id and len(repo.rows) == 2


async def test_an_invalid_aoi_stores_nothing(ctx, repo):
    bad = SubmitRequest(title="x", mission="pleiades", aoi={"type": "Point", "coordinates": [0, 0]},
                        user_id="alice", entity_id="ent-1")
    with pytest.raises(InvalidAoi):
        await submit(ctx, bad)
    assert repo.rows == {} and repo.published == []


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
ALICE = Actor("alice", "ent-1", frozenset({"user"}))


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
    stranger = Actor("bob", "ent-1", frozenset({"user"}))
    arbiter = Actor("carol", None, frozenset({"arbiter"}))
    for act in (provide_information, cancel):
        with pytest.raises(RequestNotFound):
            await act(ctx, request_id, stranger, "x")
        with pytest.raises(NotRequester, match=f"only the requester of {request_id} may"):
            await act(ctx, request_id, arbiter, "x")
    assert (await repo.get(request_id)).status == "information_requested"


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
