"""Where a request in review stands in its cell's queue, asked of the arbitration service over HTTP
(the Queues port): ``GET /api/arbitration/cases/{request_id}/place`` with the caller's own token, so
arbitration decides who may see it (the requester's entity, the cell's arbiters, operators, admins).

``None`` when arbitration says there is no such case for this caller or that it is not waiting in a
queue (404: not yet opened, decided, awaiting the requester's answer, or not the caller's to see).
An arbitration service that does not answer in time (refused connection, time-out, 5xx or 429), or
answers something else, raises :class:`UpstreamUnavailable`; the read that asked leaves the place
out (``service_layer.handlers.queue_place``). The time-out is short: a read waits for it."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from requests_service.adapters.http import HttpService
from requests_service.domain.errors import UpstreamUnavailable
from requests_service.service_layer.ports import QueuePlace


class HttpQueues(HttpService):
    name = "the arbitration service"

    async def place(self, token: str, request_id: str) -> QueuePlace | None:
        r = await self._send("GET", f"/api/arbitration/cases/{quote(request_id, safe='')}/place",
                             headers={"authorization": f"Bearer {token}"})
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise UpstreamUnavailable(f"the arbitration service ({self.base_url}) answered {r.status_code} "
                                      f"for the place of request {request_id}: {r.text[:200]}")
        try:
            body = r.json()
            return QueuePlace(cell=str(body["cell"]), position=int(body["position"]),
                              expected_decision_date=date.fromisoformat(body["expected_decision_date"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamUnavailable(f"the arbitration service ({self.base_url}) answered an unreadable place "
                                      f"for request {request_id}: {exc}") from exc
