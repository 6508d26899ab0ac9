"""Submitting requests and applying upstream events, on an in-memory repository."""

from __future__ import annotations

import pytest
from requests_service.domain.errors import IdempotencyKeyReused, InvalidAoi, RequestNotFound
from requests_service.service_layer.handlers import SubmitRequest, apply_event, submit

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
