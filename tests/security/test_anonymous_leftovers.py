"""Anonymous leftovers expire: a subscription and an account request never confirmed are deleted
(with the change records holding the names and addresses strangers typed) once the configured
expiry has passed, by the accounts service's own sweep; what was confirmed stays. The accounts
service on the real Kafka and FerretDB, e-mail through a real SMTP sink."""

from __future__ import annotations

import asyncio

import pytest
from dinamis_cli.stack.membership import Organisation, subscribe_and_approve
from dinamis_testkit.devtokens import mint_token

from .test_enumeration import NoKeycloak, asked

pytestmark = pytest.mark.integration
BASE = "/api/accounts/public/account-requests"


async def test_unconfirmed_requests_and_subscriptions_are_swept(accounts_service, unique):
    expiry = {"verification_link_hours": 6 / 3600, "unconfirmed_expiry_hours": 8 / 3600,
              "leftovers_sweep_seconds": 0.5}
    async with accounts_service(identity=NoKeycloak(), **expiry) as accounts, accounts.client() as anonymous:
        admin = mint_token(*accounts.served.keys, user="kc-admin", entity=None, roles=["admin"])
        entity_id = await subscribe_and_approve(anonymous, admin, accounts.mailbox,
                                                Organisation.sample("institutional", unique))
        ghost = (await anonymous.post("/api/accounts/public/subscriptions", json={
            "email": f"ghost.{unique}@example.org", "first_name": "G", "last_name": "Host"})).json()["subscription_id"]
        stale = (await anonymous.post(BASE, json=asked(f"stale.{unique}@example.org", entity_id))).json()["user_id"]
        kept = (await anonymous.post(BASE, json=asked(f"kept.{unique}@example.org", entity_id))).json()["user_id"]
        link = await accounts.mailbox.link_token(f"kept.{unique}@example.org")
        confirmed = await anonymous.post(f"{BASE}/{kept}/email-verification", json={"token": link})
        assert confirmed.status_code == 200, confirmed.text
        await accounts.mailbox(f"stale.{unique}@example.org")  # its e-mail went out (nothing left to relay)

        db = accounts.served.db
        for _ in range(100):
            if await db.entities.find_one({"_id": ghost}) is None and await db.users.find_one({"_id": stale}) is None:
                break
            await asyncio.sleep(0.2)
        assert await db.entities.find_one({"_id": ghost}) is None
        assert await db.users.find_one({"_id": stale}) is None
        assert await db.entities_changes.find_one({"aggregate": ghost}) is None  # nor the names they typed
        assert await db.users_changes.find_one({"aggregate": stale}) is None
        assert (await db.users.find_one({"_id": kept}))["status"] == "requested"  # confirmed: kept
        assert (await db.entities.find_one({"_id": entity_id}))["status"] == "approved"
        late = await anonymous.post(f"{BASE}/{stale}/email-verification", json={"token": "x" * 43})
        assert late.status_code == 410
