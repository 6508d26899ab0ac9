"""make up's demo step on the running test stack: after an administrator suspends the demo lab,
the next run subscribes a new one (its own addresses, only the e-mails its requests caused) instead
of failing with "e-mail: 410 LinkInvalid", and the run after that reuses it."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def profile(servers):
    from dinamis_cli import stack

    os.environ.update({"KAFKA_BOOTSTRAP_SERVERS": servers.kafka, "MONGODB_URI": servers.mongodb_uri,
                       "POSTGRES_DSN": servers.postgres_dsn})
    p = stack.load_profile("test")
    stack.start_services(p)  # those not running yet
    return p


def _run_demo_step(profile, kept):
    from dinamis_cli.demo import demo_entity, entity_status
    from dinamis_cli.stack.membership import approved_in_stack

    return demo_entity(kept, lambda e: entity_status(profile, e),
                       lambda tag: asyncio.run(approved_in_stack(profile, "scientific", tag)))


async def test_a_suspended_demo_lab_is_replaced_by_an_approved_one_then_reused(profile, tmp_path):
    from dinamis_cli import stack
    from dinamis_cli.demo import entity_status

    kept = tmp_path / "demo-entity"
    first = await asyncio.to_thread(_run_demo_step, profile, kept)
    assert await asyncio.to_thread(entity_status, profile, first) == "approved"

    admin = stack.mint_token(profile, "admin-scientific", None, ["admin"])
    async with httpx.AsyncClient(base_url=profile.service_url("gateway"), timeout=30,
                                 headers={"authorization": f"Bearer {admin}"}) as api:
        r = await api.post(f"/api/accounts/entities/{first}/suspension", json={"reason": "trying the API"})
        assert r.status_code == 200, r.text

    second = await asyncio.to_thread(_run_demo_step, profile, kept)
    assert second != first and kept.read_text() == second
    assert await asyncio.to_thread(entity_status, profile, second) == "approved"
    assert await asyncio.to_thread(entity_status, profile, first) == "suspended"

    assert await asyncio.to_thread(_run_demo_step, profile, kept) == second
