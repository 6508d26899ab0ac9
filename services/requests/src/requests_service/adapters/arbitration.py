"""The arbitration service's quota facts over HTTP (the Allowances port): ``GET
/api/arbitration/allowances`` with the caller's own token, so arbitration learns the entity and its
category from it. An arbitration service that does not answer (refused connection, time-out, 5xx
or 429) raises :class:`UpstreamUnavailable` (503 with Retry-After); nothing is stored."""

from __future__ import annotations

from datetime import datetime

from requests_service.adapters.http import HttpService
from requests_service.domain.quote import Allowance, Package


class HttpAllowances(HttpService):
    name = "the arbitration service"

    async def allowance(self, token: str, mission: str, kind: str, category: str) -> Allowance:
        r = await self._send("GET", "/api/arbitration/allowances",
                             params={"mission": mission, "kind": kind, "category": category},
                             headers={"authorization": f"Bearer {token}"})
        if r.status_code != 200:  # the token this service verified, refused there: not the requester's doing
            raise RuntimeError(f"the arbitration service refused the allowance ({r.status_code}): {r.text[:300]}")
        a = r.json()
        return Allowance(cell=a["cell"], period=a["period"], free_km2_per_request=float(a["free_km2_per_request"]),
                         cell_remaining_km2=float(a["cell_remaining_km2"]),
                         packages=tuple(Package(p["package_id"], p["mission"], float(p["remaining_km2"]),
                                                datetime.fromisoformat(p["expires_at"])) for p in a["packages"]))
