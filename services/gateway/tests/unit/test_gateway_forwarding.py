"""Sending a call again: only when the connection failed before any answer and doing it twice is
the same as doing it once (or it provably never left); otherwise a refusal saying what happened."""

from __future__ import annotations

import pytest
from gateway_service.domain.errors import UpstreamTimeout, UpstreamUnavailable
from gateway_service.domain.retry import RetryPolicy, replayable
from gateway_service.service_layer.context import Gateway
from gateway_service.service_layer.forwarding import forward
from gateway_service.service_layer.ports import Answer, Call, Dropped, NoAnswerInTime, NotSent


class FakeUpstream:
    """Fails with the given errors in turn, then answers 200."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[tuple[str, Call]] = []

    async def send(self, base_url: str, call: Call) -> Answer:
        self.sent.append((base_url, call))
        if self.failures:
            raise self.failures.pop(0)

        async def body():
            yield b"{}"

        async def close() -> None:
            pass

        return Answer(200, [("content-type", "application/json")], body(), close)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def gateway(upstream: FakeUpstream, attempts: int = 3) -> Gateway:
    return Gateway(upstream, {"requests": "http://svc"}, RetryPolicy(attempts, 0.05, jitter=lambda: 1.0))


def call(method: str = "GET", path: str | None = None, **headers: str) -> Call:
    path = path or ("/api/requests" if method == "POST" else "/api/requests/x")
    return Call(method, path, b"", list(headers.items()), b"")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_an_idempotent_call_on_a_dropped_connection_is_sent_again(method):
    upstream, sleeps = FakeUpstream(Dropped("RemoteProtocolError")), Sleeps()
    done = await forward(gateway(upstream), "requests", call(method), sleeps)
    assert (done.answer.status, done.attempts) == (200, 2)
    assert [base for base, _ in upstream.sent] == ["http://svc", "http://svc"]
    assert sleeps == [0.05]


async def test_a_post_with_an_idempotency_key_is_sent_again():
    upstream = FakeUpstream(Dropped("reset"), Dropped("reset"))
    done = await forward(gateway(upstream), "requests", call("POST", **{"Idempotency-Key": "k1"}), Sleeps())
    assert done.attempts == 3


async def test_a_post_without_a_key_on_a_dropped_connection_is_refused_after_one_send():
    upstream = FakeUpstream(Dropped("reset"))
    with pytest.raises(UpstreamUnavailable, match=r"may or may not have been applied.*Idempotency-Key") as refused:
        await forward(gateway(upstream), "requests", call("POST"), Sleeps())
    assert refused.value.attempts == 1 and len(upstream.sent) == 1


async def test_a_call_that_never_left_is_sent_again_whatever_its_method():
    upstream = FakeUpstream(NotSent("refused"))
    assert (await forward(gateway(upstream), "requests", call("POST"), Sleeps())).attempts == 2


async def test_sends_are_bounded_with_a_growing_back_off():
    upstream, sleeps = FakeUpstream(*[NotSent("refused")] * 5), Sleeps()
    with pytest.raises(UpstreamUnavailable, match="cannot be reached") as refused:
        await forward(gateway(upstream), "requests", call(), sleeps)
    assert refused.value.attempts == 3 and len(upstream.sent) == 3
    assert sleeps == [0.05, 0.1]


async def test_a_call_without_an_answer_in_time_is_not_sent_again():
    upstream = FakeUpstream(NoAnswerInTime("read"))
    with pytest.raises(UpstreamTimeout) as refused:
        await forward(gateway(upstream), "requests", call(), Sleeps())
    assert refused.value.attempts == 1


def test_an_empty_idempotency_key_does_not_make_a_post_replayable():
    assert not replayable("POST", {"idempotency-key": " "}, "/api/requests")
    assert not replayable("PATCH", {"idempotency-key": "k"}, "/api/requests")
    assert replayable("post", {"idempotency-key": "k"}, "/api/requests")


def test_a_key_makes_a_post_replayable_only_where_the_service_honours_it():
    assert not replayable("POST", {"idempotency-key": "k"}, "/api/accounts/public/subscriptions")
