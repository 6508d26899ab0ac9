"""Only members of an approved entity eligible for the mission may submit; routing follows the
entity's kind as the read model knows it; the read model keeps the newest snapshot."""

from __future__ import annotations

import pytest
from requests_service.domain.access import Actor
from requests_service.domain.entities import Entity
from requests_service.domain.errors import NotEligible
from requests_service.service_layer.handlers import SubmitRequest, submit

pytestmark = pytest.mark.usefixtures("priced")  # make_quote is tested on its own
AOI = {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.7], [3.8, 43.6]]]}


def entity(status: str = "approved", missions=("pleiades",), kind: str = "institutional", version: int = 1,
           entity_id: str = "ent-2") -> Entity:
    return Entity(entity_id=entity_id, name="Région", kind=kind, status=status,
                  eligible_missions=frozenset(missions), version=version)


def cmd(entity_id: str | None = "ent-2", mission: str = "pleiades", key: str | None = None) -> SubmitRequest:
    body = {"kind": "tasking", "title": "Coast", "mission": mission, "justification": "coastline", "aoi": AOI,
            "tasking": {"window": {"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-30T00:00:00+00:00"},
                        "max_cloud_cover": 10, "max_incidence_angle": 20}}
    return SubmitRequest(body=body, actor=Actor("alice", entity_id, frozenset({"user"})), idempotency_key=key)


@pytest.mark.parametrize(("known", "command", "message"), [
    (None, cmd(entity_id=None), "your account is not attached to a subscribed entity"),
    (None, cmd(), "entity ent-2 is not a subscribed DINAMIS member "
                  "(or its subscription has not reached this service yet)"),
    (entity(status="subscribed"), cmd(), "entity ent-2's subscription is subscribed: "
                                         "requests open once it is approved"),
    (entity(status="awaiting-review"), cmd(), "entity ent-2's subscription is awaiting-review: "
                                              "requests open once it is approved"),
    (entity(status="suspended"), cmd(), "entity ent-2's subscription is suspended: "
                                        "requests open once it is approved"),
    (entity(missions=("pleiades",)), cmd(mission="spot-6-7"),
     "entity ent-2 is not eligible for spot-6-7 (a licence to accept or a review pending)"),
    (entity(missions=()), cmd(), "entity ent-2 is not eligible for pleiades (a licence to accept or a review pending)"),
])
async def test_a_refused_submission_says_why_and_stores_and_publishes_nothing(ctx, repo, entities, known,
                                                                              command, message):
    if known is not None:
        await entities.apply(known)
    with pytest.raises(NotEligible) as refused:
        await submit(ctx, command)
    assert str(refused.value) == message
    assert repo.rows == {} and repo.published == []


async def test_the_routing_category_is_the_entity_kind_known_here(ctx, repo, entities):
    await entities.apply(entity(kind="institutional"))
    request, _ = await submit(ctx, cmd())
    assert request.requester.entity_category == "institutional"
    assert (await repo.get(request.id)).requester.entity_category == "institutional"
    await entities.apply(entity(kind="scientific", version=2))  # the accounts service reclassified it
    later, _ = await submit(ctx, cmd())
    assert later.requester.entity_category == "scientific"


async def test_an_accepted_request_replayed_after_a_suspension_still_gets_its_answer(ctx, repo, entities):
    await entities.apply(entity())
    first, _ = await submit(ctx, cmd(key="k1"))
    await entities.apply(entity(status="suspended", version=2))
    again, created = await submit(ctx, cmd(key="k1"))
    assert (again.id, created) == (first.id, False)
    with pytest.raises(NotEligible):  # but nothing new
        await submit(ctx, cmd(key="k2"))
    assert len(repo.rows) == 1


async def test_the_directory_keeps_only_a_newer_snapshot(entities):
    assert await entities.apply(entity(status="approved", version=3))
    assert not await entities.apply(entity(status="subscribed", version=1))  # late, older
    assert not await entities.apply(entity(status="suspended", version=3))  # same version again
    assert (await entities.get("ent-2")).status == "approved"
    assert await entities.apply(entity(status="suspended", version=4))
    assert (await entities.get("ent-2")).status == "suspended"
