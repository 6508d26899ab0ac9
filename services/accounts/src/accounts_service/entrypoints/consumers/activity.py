"""Entity activity, learnt from request events (group ``accounts.activity``): how many requests
each subscribed entity submitted, for its correspondent and for the yearly membership review. One
entity's activity is a hot aggregate (every submission of its members changes it, from every replica
of the group): a change refused because another replica moved it first is tried again after a random
pause, and if it still does not get through, the record is retried as a transient failure, never
dead-lettered (a lost count would be wrong for good)."""

from __future__ import annotations

import asyncio
import random

from dinamis_common.messaging.consumer import Handler, dispatch
from dinamis_common.messaging.envelope import CloudEvent
from dinamis_common.messaging.failures import TransientError
from dinamis_common.messaging.outbox import AggregateStore
from dinamis_contracts import requests

GROUP = "accounts.activity"  # upstream: requests


def requests_handler(activity: AggregateStore) -> Handler:
    async def count(submitted: requests.RequestSubmittedV1, event: CloudEvent) -> None:
        entity = submitted.requester.entity_id
        if entity is None:
            return
        for attempt in range(10):
            if attempt:  # replicas counting one busy entity at once: spread out rather than collide again
                await asyncio.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))  # noqa: S311
            doc = await activity.get(entity, cached=True)  # as last seen here; a refused update refreshes it
            if doc is None:
                first = {"_id": entity, "requests_submitted": 1, "area_km2_requested": round(submitted.area_km2, 3),
                         "last_request_at": submitted.submitted_at}
                if await activity.insert(first, cause=event.id):
                    return
                continue
            changes = {
                "requests_submitted": doc["requests_submitted"] + 1,
                "area_km2_requested": round(doc["area_km2_requested"] + submitted.area_km2, 3),
                "last_request_at": submitted.submitted_at,
            }
            # a second delivery of the event, by any replica, finds its cause stored and changes nothing
            if await activity.update(entity, doc["version"], changes, applied=event.id):
                return
        # contention, not a fault of the record: tried again in place until it gets through (never set aside)
        raise TransientError(f"activity of entity {entity} kept changing")

    return dispatch({requests.REQUEST_SUBMITTED: (requests.RequestSubmittedV1, count)})
