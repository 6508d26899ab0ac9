"""Anonymous leftovers: what anyone may start without an account (a subscription, an account
request) and never confirms is deleted once ``Rules.unconfirmed_expiry`` has passed, so public
endpoints cannot fill the database, and names and addresses typed by strangers are not kept."""

from __future__ import annotations

import logging

from accounts_service.service_layer.context import Accounts

log = logging.getLogger(__name__)


async def sweep(ctx: Accounts) -> tuple[int, int]:
    """(subscriptions, account requests) deleted."""
    cutoff = ctx.clock() - ctx.rules.unconfirmed_expiry
    entities = await ctx.entities.expire_unconfirmed(cutoff)
    users = await ctx.users.expire_unconfirmed(cutoff)
    if entities or users:
        log.info("expired %d unconfirmed subscriptions and %d unconfirmed account requests", entities, users)
    return entities, users
