"""Prepaid packages and allowances through the served arbitration service on the real FerretDB:
an administrator registers a package (once per reference), members of the entity see it and what
is left, others do not; draws from the package are held in its own ledger, refused with what is
left when it cannot take them, released on cancellation; the allowance a requester is given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from arbitration_service.bootstrap import create_app
from arbitration_service.service_layer import packages as uc
from arbitration_service.settings import Settings
from dinamis_testkit.fixtures import served_service

packages_service = served_service("arbitration", create_app, Settings, fixture_name="packages_service")

EXPIRES = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)


def body(entity: str, reference: str = "PO-2026-001", km2: float = 1000, amount: str = "500.00") -> dict:
    return {"entity_id": entity, "mission": "spot-6-7", "km2": km2, "amount_eur": amount,
            "expires_at": EXPIRES.isoformat(), "reference": reference}


async def test_an_admin_registers_a_package_once_per_reference(packages_service):
    async with packages_service.client("admin-1", roles=["admin"]) as admin:
        first = await admin.post("/api/arbitration/packages", json=body("ent-a"))
        again = await admin.post("/api/arbitration/packages", json=body("ent-a"))
        other = await admin.post("/api/arbitration/packages", json=body("ent-a", km2=2000))
        second = await admin.post("/api/arbitration/packages", json=body("ent-a", "PO-2026-002", 300, "150"))
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["package_id"] == first.json()["package_id"]
    assert other.status_code == 409 and "already has package" in other.json()["message"]
    assert second.status_code == 201
    got = first.json()
    assert (got["entity_id"], got["km2"], got["amount_eur"], got["currency"], got["remaining_km2"]) == (
        "ent-a", 1000, "500.00", "EUR", 1000)
    assert second.json()["amount_eur"] == "150.00"


async def test_registering_is_for_admins_and_checked(packages_service):
    async with packages_service.client("u", entity="ent-b", roles=["user"]) as user:
        refused = await user.post("/api/arbitration/packages", json=body("ent-b"))
    async with packages_service.client("admin-1", roles=["admin"]) as admin:
        past = await admin.post("/api/arbitration/packages",
                                json={**body("ent-b"), "expires_at": "2020-01-01T00:00:00Z"})
        money = await admin.post("/api/arbitration/packages", json={**body("ent-b"), "amount_eur": "12.345"})
    assert refused.status_code == 403
    assert past.status_code == 422 and "already past" in past.json()["message"]
    assert money.status_code == 422 and "at most two decimals" in money.json()["message"]


async def test_members_see_their_entitys_packages_and_nobody_else_does(packages_service):
    async with packages_service.client("admin-1", roles=["admin"]) as admin:
        created = (await admin.post("/api/arbitration/packages", json=body("ent-c"))).json()
        as_admin = await admin.get("/api/arbitration/packages", params={"entity_id": "ent-c"})
    async with packages_service.client("member", entity="ent-c") as member:
        own = await member.get("/api/arbitration/packages")
    async with packages_service.client("stranger", entity="ent-d") as stranger:
        theirs = await stranger.get("/api/arbitration/packages", params={"entity_id": "ent-c"})
        mine = await stranger.get("/api/arbitration/packages")
    async with packages_service.client(None) as anonymous:
        nobody = await anonymous.get("/api/arbitration/packages", params={"entity_id": "ent-c"})
    assert [p["package_id"] for p in as_admin.json()["items"]] == [created["package_id"]]
    assert [p["package_id"] for p in own.json()["items"]] == [created["package_id"]]
    assert theirs.status_code == 404 and created["package_id"] not in theirs.text
    assert mine.status_code == 200 and mine.json()["items"] == []
    assert nobody.status_code == 401


async def test_the_allowance_gives_cell_period_free_volume_remaining_and_usable_packages(packages_service):
    async with packages_service.client("admin-1", roles=["admin"]) as admin:
        pkg = (await admin.post("/api/arbitration/packages", json=body("ent-e", km2=400))).json()
        await admin.post("/api/arbitration/packages",
                         json={**body("ent-e", "PLEIADES-1"), "mission": "pleiades"})
    async with packages_service.client("member", entity="ent-e", category="scientific") as member:
        spot = await member.get("/api/arbitration/allowances", params={"mission": "spot-6-7", "kind": "archive"})
        pleiades = await member.get("/api/arbitration/allowances", params={"mission": "pleiades", "kind": "tasking"})
        bad = await member.get("/api/arbitration/allowances", params={"mission": "landsat", "kind": "archive"})
    async with packages_service.client("member", entity="ent-x", category="institutional") as other:
        institutional = await other.get("/api/arbitration/allowances",
                                        params={"mission": "pleiades", "kind": "archive"})
    year = datetime.now(UTC).year
    quarter = f"{year}-Q{(datetime.now(UTC).month - 1) // 3 + 1}"
    assert spot.json() == {"cell": "spot-science", "period": str(year), "free_km2_per_request": 5000,
                           "cell_remaining_km2": 10_000_000,
                           "packages": [{"package_id": pkg["package_id"], "mission": "spot-6-7", "remaining_km2": 400,
                                         "expires_at": EXPIRES.isoformat().replace("+00:00", "Z")}]}
    assert (pleiades.json()["cell"], pleiades.json()["period"], pleiades.json()["free_km2_per_request"]) == (
        "pleiades-science", quarter, 250)
    assert [p["mission"] for p in pleiades.json()["packages"]] == ["pleiades"]
    assert institutional.json()["cell"] == "institutional" and institutional.json()["packages"] == []
    assert bad.status_code == 422


async def test_draws_hold_the_package_refuse_what_it_cannot_take_and_come_back_on_cancellation(packages_service):
    async with packages_service.client("admin-1", roles=["admin"]) as admin:
        pkg = (await admin.post("/api/arbitration/packages", json=body("ent-f", km2=500))).json()
    replicas = [_packages_of(packages_service) for _ in range(2)]  # own locks each, as two processes
    app_packages = replicas[0]
    at = datetime.now(UTC)
    # 5 × 150 km² of a 500 km² package drawn at once from two replicas: 3 fit
    results = await asyncio.gather(*(uc.draw(replicas[i % 2], f"case-{i}", pkg["package_id"], 150, at)
                                     for i in range(5)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, uc.PackageExhausted)]
    assert len(refused) == 2 and all("has 50 km² left of its 500 km²" in str(r) for r in refused)
    held = next(f"case-{i}" for i, r in enumerate(results) if not isinstance(r, Exception))  # whichever got in
    again = await uc.draw(app_packages, held, pkg["package_id"], 150, at)  # the same case again: nothing more
    assert again is not None and again.remaining_m2 == 50 * 10**6
    async with packages_service.client("member", entity="ent-f") as member:
        seen = (await member.get("/api/arbitration/packages")).json()["items"][0]
    assert (seen["drawn_km2"], seen["remaining_km2"]) == (450, 50)
    await uc.give_back(app_packages, held, "cancelled", at)
    await uc.give_back(app_packages, held, "cancelled", at)  # delivered twice: released once
    async with packages_service.client("member", entity="ent-f") as member:
        seen = (await member.get("/api/arbitration/packages")).json()["items"][0]
    assert (seen["drawn_km2"], seen["remaining_km2"]) == (300, 200)


def _packages_of(service) -> uc.Packages:
    """The served app's package use cases, on its own database (as a second replica would be)."""
    from arbitration_service.adapters.ledger_repository import MongoLedgerRepository
    from arbitration_service.adapters.packages import MongoPackageRepository
    from arbitration_service.domain.policy import QuotaPolicy
    from arbitration_service.service_layer.context import utcnow
    from arbitration_service.service_layer.quotas import Quotas
    from dinamis_common.messaging.outbox import AggregateStore

    db = service.db
    ledgers = MongoLedgerRepository(AggregateStore(db["package_ledgers"]), entries=db["package_entries"],
                                    announce=False)
    policy = QuotaPolicy.from_config(service.settings.arbitration_quota_policy)
    return uc.Packages(MongoPackageRepository(db["packages"]), Quotas(ledgers, policy, utcnow))
