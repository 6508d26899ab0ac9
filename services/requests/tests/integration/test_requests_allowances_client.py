"""The requests service's arbitration client (HttpAllowances) against the arbitration service served
on the real FerretDB, with a requester's token forwarded: the allowance it is given, the entity's
usable packages; and 503-like UpstreamUnavailable when arbitration does not answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings
from dinamis_testkit.devtokens import mint_token
from dinamis_testkit.fixtures import served_service
from dinamis_testkit.inprocess import free_port
from requests_service.adapters.arbitration import HttpAllowances
from requests_service.domain.errors import UpstreamUnavailable

arbitration = served_service("arbitration", create_app, Settings, fixture_name="arbitration")


async def test_the_allowance_of_the_callers_entity_with_its_packages(arbitration):
    expires = (datetime.now(UTC) + timedelta(days=60)).replace(microsecond=0)
    async with arbitration.client("admin-1", roles=["admin"]) as admin:
        pkg = (await admin.post("/api/arbitration/packages", json={
            "entity_id": "ent-q", "mission": "spot-6-7", "km2": 800, "amount_eur": "400",
            "expires_at": expires.isoformat(), "reference": "PO-1"})).json()
    token = mint_token(*arbitration.keys, user="u-1", entity="ent-q", category="institutional")
    client = HttpAllowances(arbitration.url)
    try:
        got = await client.allowance(token, "spot-6-7", "tasking", "institutional")
        # the entity's kind as the requests service knows it routes, not the token's (stale) claim
        routed = await client.allowance(token, "spot-6-7", "tasking", "scientific")
    finally:
        await client.close()
    assert (got.cell, got.period, got.free_km2_per_request) == ("institutional", str(datetime.now(UTC).year), 2000)
    assert got.cell_remaining_km2 == 10_000_000
    assert (routed.cell, [p.package_id for p in routed.packages]) == ("spot-science", [pkg["package_id"]])
    assert [(p.package_id, p.mission, p.remaining_km2, p.expires_at) for p in got.packages] == [
        (pkg["package_id"], "spot-6-7", 800, expires)]


async def test_an_arbitration_service_that_does_not_answer_is_unavailable():
    client = HttpAllowances(f"http://127.0.0.1:{free_port()}", timeout=1)
    try:
        with pytest.raises(UpstreamUnavailable, match="did not answer"):
            await client.allowance("tok", "pleiades", "archive", "scientific")
    finally:
        await client.close()
