"""HttpQueues reads arbitration's answer: a place, ``None`` on 404, and UpstreamUnavailable for
anything it cannot rely on (an error status, an unreadable body), with the caller's token forwarded."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from requests_service.adapters.queues import HttpQueues
from requests_service.domain.errors import UpstreamUnavailable
from requests_service.service_layer.ports import QueuePlace


def answering(status: int, body: object, seen: list[httpx.Request] | None = None) -> HttpQueues:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body)
    return HttpQueues("http://arbitration.test", transport=httpx.MockTransport(handle))


async def test_a_place_with_the_callers_token_forwarded():
    seen: list[httpx.Request] = []
    client = answering(200, {"request_id": "r 1", "cell": "institutional", "position": 3, "count": 9,
                             "expected_decision_date": "2026-05-04"}, seen)
    assert await client.place("tok", "r 1") == QueuePlace("institutional", 3, date(2026, 5, 4))
    assert seen[0].url.raw_path == b"/api/arbitration/cases/r%201/place"
    assert seen[0].headers["authorization"] == "Bearer tok"


async def test_not_in_a_queue_or_not_the_callers_is_none():
    assert await answering(404, {"error": "CaseNotFound", "message": "no case"}).place("tok", "r1") is None


@pytest.mark.parametrize(("status", "body", "words"), [
    (503, {"error": "ServiceUnavailable"}, "answered 503"),
    (401, {"error": "HTTPError"}, "answered 401"),
    (200, {"cell": "institutional"}, "unreadable place"),
    (200, {"cell": "institutional", "position": 1, "expected_decision_date": "soon"}, "unreadable place"),
])
async def test_what_cannot_be_relied_on_is_unavailable(status, body, words):
    with pytest.raises(UpstreamUnavailable, match=words):
        await answering(status, body).place("tok", "r1")
