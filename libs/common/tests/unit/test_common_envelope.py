"""CloudEvents in Kafka binary mode: what a partner system reads off the topic."""

from __future__ import annotations

import pytest
from dinamis_common.messaging.envelope import CloudEvent, MalformedEvent


def test_an_event_survives_the_round_trip_through_headers_and_body():
    event = CloudEvent(type="fr.dinamis.x.y.happened.v1", source="/dinamis/x", subject="agg-1", data={"n": 1})
    headers = {k: v.encode() for k, v in event.headers().items()}
    back = CloudEvent.from_record(headers, event.body())
    assert (back.id, back.type, back.source, back.subject, back.data) == \
        (event.id, event.type, event.source, "agg-1", {"n": 1})
    assert back.time == event.time
    assert headers["content-type"] == b"application/json" and headers["ce_specversion"] == b"1.0"


def test_ids_are_time_ordered_uuid7():
    first, second = (CloudEvent(type="t", source="/s", subject="a", data={}) for _ in range(2))
    assert first.id[14] == "7" and first.id < second.id


@pytest.mark.parametrize(("headers", "body", "reason"), [
    ({"content-type": "application/json"}, b"{}", "missing header"),
    ({"ce_id": "1", "ce_type": "t", "ce_source": "/s", "ce_specversion": "1.0"}, b"{nope", "unreadable"),
    ({"ce_id": "1", "ce_type": "t", "ce_source": "/s", "ce_specversion": "1.0"}, b"[1, 2]", "not a JSON object"),
])
def test_a_record_that_is_not_a_readable_cloudevent_is_refused(headers, body, reason):
    with pytest.raises(MalformedEvent) as refused:
        CloudEvent.from_record(headers, body)
    assert reason in str(refused.value)
