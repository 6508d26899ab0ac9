"""Anonymous leftovers expire: subscriptions and account requests never confirmed are deleted
once ``unconfirmed_expiry`` has passed; confirmed ones stay."""

from __future__ import annotations

import pytest
from accounts_service.domain.entity import Person
from accounts_service.domain.errors import InvalidInput
from accounts_service.service_layer import leftovers, members, subscriptions

from .conftest import REP, description


async def test_unconfirmed_requests_and_subscriptions_are_swept_after_their_expiry(ctx, journey, clock):
    entity_id = await journey.approved()
    stale_user = await members.request(ctx, "ghost@ville-exemple.fr", "Gus", "Ghost", entity_id)
    never_validated = await journey.started("nobody@elsewhere.example.org")
    clock.advance(hours=47)
    assert await leftovers.sweep(ctx) == (0, 0)  # not expired yet
    fresh_user = await members.request(ctx, "late@ville-exemple.fr", "Lou", "Late", entity_id)
    clock.advance(hours=2)
    assert await leftovers.sweep(ctx) == (1, 1)
    assert await ctx.users.get(stale_user.id) is None and await ctx.entities.get(never_validated) is None
    assert await ctx.users.get(fresh_user.id) is not None
    assert (await ctx.entities.get(entity_id)).status == "approved"  # confirmed: kept


async def test_the_legal_representative_is_not_the_correspondents_address(ctx, journey):
    entity_id = await journey.started("corr@ville-exemple.fr")
    edit = await subscriptions.verify_email(ctx, entity_id, journey.token("corr@ville-exemple.fr"))
    for alias in ("Corr@Ville-Exemple.fr", " corr+maire@ville-exemple.fr", "CORR+x+y@VILLE-EXEMPLE.FR"):
        self_named = Person(REP.first_name, REP.last_name, alias, REP.role)
        with pytest.raises(InvalidInput, match="their own e-mail address"):
            await subscriptions.describe(ctx, entity_id, edit, description(legal_representative=self_named))
    assert journey.mails_to("corr@ville-exemple.fr")[-1].subject.startswith("DINAMIS: validate")
