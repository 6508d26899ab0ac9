"""One OpenTelemetry trace follows a request through every hop of the skeleton."""

from __future__ import annotations

import pytest
from dinamis_testkit.archive import archive_request, archive_scene, ensure_archive_items_async
from dinamis_testkit.statuses import ORDERED_OR_LATER

pytestmark = [pytest.mark.integration, pytest.mark.flow]


async def test_one_trace_spans_the_gateway_and_all_five_services(inprocess_stack, servers, eventually):
    stack = inprocess_stack
    await ensure_archive_items_async(servers.postgres_dsn)  # the scene asked for, in the catalogue it serves
    async with stack.client(stack.token("trace-user")) as api:
        created = await api.post("/api/requests", json=archive_request(archive_scene(), title="trace"))
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]

        async def ordered():
            r = await api.get(f"/api/requests/{request_id}")
            return r.json() if r.json()["status"] in ORDERED_OR_LATER else None

        await eventually(ordered)

    submit = next(s for s in stack.spans.get_finished_spans()
                  if s.resource.attributes["service.name"] == "gateway"
                  and s.attributes.get("http.request.method", s.attributes.get("http.method")) == "POST")
    trace_id = submit.context.trace_id

    def services_in_trace() -> set[str]:
        return {s.resource.attributes["service.name"] for s in stack.spans.get_finished_spans()
                if s.context.trace_id == trace_id}

    async def everyone():
        found = services_in_trace()
        return found if found >= {"gateway", "requests", "arbitration", "provisioning", "accounts", "catalogue"} \
            else None

    await eventually(everyone, timeout=15)
    names = {s.name for s in stack.spans.get_finished_spans() if s.context.trace_id == trace_id}
    # the hops themselves are in the trace: HTTP in, Kafka out and in, MongoDB writes
    assert any("publish" in n for n in names) and any("process" in n for n in names)
    assert any(n.endswith((".insert", ".update", " insert", " update")) for n in names), sorted(names)
