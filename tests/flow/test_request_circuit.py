"""Issue 10's request circuit through the gateway, every service a real process on the real Kafka,
FerretDB and PostgreSQL, as a scientist of a lab and the arbiters of the SPOT science cell live it:

1. a quote, then an archive request (within the free quota: the test profile's rule accepts it) and
   tasking requests, with the delivered imagery and the pending tasking they overlap offered;
2. the cell's queue (the same place shown to the requester: checked on a fifth request left in
   review until the end); information asked by an arbiter of the cell and answered; one request
   accepted partially (a smaller area) and one rejected; an arbiter of another cell refused;
3. one accepted tasking cancelled by its requester, its hold released;
4. the cell's public burn-down moves by exactly what was accepted minus what was released.

The SPOT science cell is this test's alone in the flow suite (no other flow test submits SPOT
requests of a scientific entity), and its burn-down is compared before and after, so runs on the
same test stack do not disturb one another. The places are drawn anew each run (no earlier run's
pending taskings or delivered images among the offers asserted)."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from dinamis_cli.catalogue import ingest_items
from dinamis_testkit.archive import archive_request, square, tasking_request
from dinamis_testkit.statuses import ORDERED_OR_LATER
from pyproj import Geod

pytestmark = [pytest.mark.integration, pytest.mark.flow]

CELL = "spot-science"
EXACT = 1e-5  # km²: the ledger counts whole m²


def km2(geojson: dict) -> float:
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.geometry.shape(geojson))[0]) / 1e6


def delivered_spot_item(aoi: dict, acquired: datetime) -> dict:
    """A SPOT 6/7 image delivered a month ago over ``aoi``, clear and near vertical."""
    ring = aoi["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return {"type": "Feature", "stac_version": "1.1.0", "id": f"spot-6-7-circuit-{uuid.uuid4().hex[:10]}",
            "collection": "spot-6-7", "geometry": aoi, "bbox": [min(xs), min(ys), max(xs), max(ys)],
            "properties": {"datetime": acquired.isoformat().replace("+00:00", "Z"), "platform": "spot-7",
                           "constellation": "spot", "instruments": ["naomi"], "gsd": 1.5, "eo:cloud_cover": 3.0,
                           "view:incidence_angle": 8.0, "processing:level": "ORTHO"},
            "assets": {}, "links": []}


class Circuit:
    """The requester's and the arbiters' clients, and what they wait for."""

    def __init__(self, running_stack, eventually, requester, arbiter) -> None:
        self.stack, self.eventually = running_stack, eventually
        self.requester, self.arbiter = requester, arbiter

    async def burndown(self) -> dict:
        async with self.stack.client() as anonymous:  # public: no token
            r = await anonymous.get("/api/arbitration/public/burndown", params={"cell": CELL})
        assert r.status_code == 200, r.text
        return r.json()

    async def request(self, request_id: str) -> dict:
        r = await self.requester.get(f"/api/requests/{request_id}")
        assert r.status_code == 200, r.text
        return r.json()

    async def until(self, request_id: str, ready, timeout: float = 60) -> dict:
        async def probe():
            body = await self.request(request_id)
            return body if ready(body) else None

        try:
            return await self.eventually(probe, timeout=timeout, interval=0.5)
        except AssertionError:
            raise AssertionError(f"request {request_id} never got there: {await self.request(request_id)}") from None

    async def decide(self, request_id: str, decision: str, reason: str = "", **more) -> dict:
        async def decided():
            r = await self.arbiter.post(f"/api/arbitration/cases/{request_id}/decisions",
                                        json={"decision": decision, "reason": reason, **more})
            return r if r.status_code != 409 or "decision" not in r.text else None  # one at a time per case

        r = await self.eventually(decided, timeout=30, interval=0.5)
        assert r.status_code == 201, (decision, r.status_code, r.text)
        return r.json()

    async def burndown_becomes(self, expected: dict, timeout: float = 60) -> dict:
        async def probe():
            now = await self.burndown()
            return now if all(abs(now[k] - v) <= EXACT for k, v in expected.items()) else None

        try:
            return await self.eventually(probe, timeout=timeout, interval=0.5)
        except AssertionError:
            raise AssertionError(f"burn-down {await self.burndown()} never became {expected}") from None


async def test_quote_requests_information_partial_rejection_cancellation_and_an_exact_burndown(
        running_stack, eventually):
    tag = uuid.uuid4().hex[:6]
    rng = random.Random()
    lon, lat = round(rng.uniform(0.5, 5.0), 4), round(rng.uniform(44.0, 48.0), 4)  # this run's own place
    requester = running_stack.token(f"scientist-{tag}", category="scientific")
    arbiter = running_stack.token(f"arbiter-{tag}", roles=("arbiter",), cells=(CELL,))
    other_cell = running_stack.token(f"arbiter-pl-{tag}", roles=("arbiter",), cells=("pleiades-science",))
    window_start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    delivered = delivered_spot_item(square(lon, lat, 40), datetime.now(UTC).replace(microsecond=0) - timedelta(days=30))
    await asyncio.to_thread(ingest_items, running_stack.profile.postgres_dsn, [delivered])

    async with running_stack.client(requester) as me, running_stack.client(arbiter) as cell, \
            running_stack.client(other_cell) as stranger:
        circuit = Circuit(running_stack, eventually, me, cell)
        before = await circuit.burndown()

        # 1. a quote, then an archive request and tasking requests -------------------------------------------
        archive_body = archive_request(running_stack.scene("spot-6-7"), title=f"Rade de Brest {tag}", clip_km=20,
                                       funding_reference="ANR-22-CE01-0001")
        quoted = await me.post("/api/requests/quotes", json=archive_body)
        assert quoted.status_code in (200, 201), quoted.text
        quote = quoted.json()
        assert quote["cell"] == CELL
        assert 380 < quote["area_km2"] < 420
        assert (quote["free_km2"], quote["over_quota_km2"]) == (pytest.approx(quote["area_km2"]), 0)
        assert quote["invoicing_minimum_km2"] == 25 and quote["price_eur"] == "0.00" and quote["payer"]
        assert datetime.fromisoformat(quote["valid_until"]) > datetime.fromisoformat(quote["quoted_at"])
        assert (await me.get("/api/requests", params={"limit": 200})).status_code == 200

        created = await me.post("/api/requests", json=archive_body)
        assert created.status_code == 201, created.text
        a = created.json()
        assert (a["kind"], a["status"], a["quote"]["area_km2"]) == ("archive", "submitted", quote["area_km2"])
        assert [s["item_id"] for s in a["scenes"]] == [running_stack.scene("spot-6-7").id]

        b_body = tasking_request(square(lon, lat, 30), window_start, 14, title=f"Tasking B {tag}", mission="spot-6-7",
                                 mode="stereo", priority="high", max_cloud_cover=10, max_incidence_angle=20)
        b_quote = (await me.post("/api/requests/quotes", json=b_body)).json()
        assert b_quote["invoicing_minimum_km2"] == 100 and b_quote["cell"] == CELL, b_quote
        assert delivered["id"] in [o["item_id"] for o in b_quote["offers"]["delivered"]], b_quote["offers"]
        b = (await me.post("/api/requests", json=b_body)).json()
        assert b["kind"] == "tasking" and b["priority"] == "high", b
        assert delivered["id"] in [o["item_id"] for o in b["quote"]["offers"]["delivered"]]

        c_body = tasking_request(square(lon + 1.5, lat, 20), window_start, 10, title=f"Tasking C {tag}",
                                 mission="spot-6-7")
        c = (await me.post("/api/requests", json=c_body)).json()

        d_body = tasking_request(square(lon + 0.05, lat + 0.05, 20), window_start + timedelta(days=2), 10,
                                 title=f"Tasking D {tag}", mission="spot-6-7")

        async def offered_to_join_b():  # the pending-tasking index learns B from the requests' own events
            offers = (await me.post("/api/requests/quotes", json=d_body)).json()["offers"]
            return offers if b["id"] in [o["request_id"] for o in offers["join"]] else None

        e_body = tasking_request(square(lon - 1.5, lat, 20), window_start + timedelta(days=30), 10,
                                 title=f"Tasking E {tag}", mission="spot-6-7")
        e = (await me.post("/api/requests", json=e_body)).json()  # left in review until the end

        await eventually(offered_to_join_b, timeout=30, interval=0.5)
        d = (await me.post("/api/requests", json=d_body)).json()
        assert b["id"] in [o["request_id"] for o in d["quote"]["offers"]["join"]], d["quote"]["offers"]
        assert c["id"] not in [o["request_id"] for o in d["quote"]["offers"]["join"]]  # elsewhere

        # the archive request: accepted by the rule, ordered, nobody asked
        a = await circuit.until(a["id"], lambda r: r["status"] in ORDERED_OR_LATER)
        accepted = next(h for h in a["history"] if h["status"] == "accepted")
        assert accepted["by"].startswith("rule:"), a["history"]
        assert a["accepted_area_km2"] == pytest.approx(a["area_km2"])

        # 2. the cell's queue, information asked and answered, a partial acceptance, a rejection ------------
        for r in (b, c, d):
            seen = await circuit.until(r["id"], lambda x: x["status"] == "in_review")
            assert seen["who_must_act"] == "cell"

        def queued(*ids: str):
            async def probe():
                r = await cell.get(f"/api/arbitration/cells/{CELL}/queue")
                assert r.status_code == 200, r.text
                listed = {x["request_id"]: x for x in r.json()["cases"]}
                return listed if set(ids) <= set(listed) else None

            return probe

        listed = await eventually(queued(b["id"], c["id"], d["id"]), timeout=30, interval=0.5)
        assert listed[b["id"]]["quote"]["area_km2"] == pytest.approx(b["area_km2"])
        assert delivered["id"] in [o["item_id"] for o in listed[b["id"]]["offers"]["delivered"]]
        assert listed[b["id"]]["position"] < listed[c["id"]]["position"]  # high before standard
        assert (await cell.get(f"/api/requests/{b['id']}")).status_code == 200  # an arbiter sees the cell's

        refused = await stranger.post(f"/api/arbitration/cases/{b['id']}/decisions",
                                      json={"decision": "rejected", "reason": "not my cell"})
        assert refused.status_code == 403, refused.text

        await circuit.decide(b["id"], "information-requested", "Which tide do you need: high or low?")
        asked = await circuit.until(b["id"], lambda r: r["status"] == "information_requested")
        assert asked["who_must_act"] == "requester"
        answered = await me.post(f"/api/requests/{b['id']}/information",
                                 json={"answer": "Low tide: the mudflats must be visible."})
        assert answered.status_code == 200, answered.text
        back = await circuit.until(b["id"], lambda r: r["status"] == "in_review")
        assert back["who_must_act"] == "cell"
        assert [h["status"] for h in back["history"]][-3:] == ["in_review", "information_requested", "in_review"]

        smaller = square(lon, lat, 15)
        case = await circuit.decide(b["id"], "accepted-partially", "Half the area fits this year's budget.",
                                    accepted_aoi=smaller, accepted_area_km2=round(km2(smaller), 3))
        b_held = case["decisions"][-1]["accepted_area_km2"]
        assert b_held == pytest.approx(km2(smaller), rel=0.01) and b_held < b["area_km2"]
        b = await circuit.until(b["id"], lambda r: r["status"] in ("partially_accepted", *ORDERED_OR_LATER))
        assert b["accepted_area_km2"] == pytest.approx(b_held)
        assert "partially_accepted" in [h["status"] for h in b["history"]]

        await circuit.decide(c["id"], "rejected", "The same area was acquired last month: reuse it.")
        c = await circuit.until(c["id"], lambda r: r["status"] == "rejected")
        assert c["who_must_act"] is None and "acquired last month" in c["history"][-1]["note"]
        late = await me.post(f"/api/requests/{c['id']}/cancel", json={"reason": "too late"})
        assert late.status_code == 409 and late.json()["message"], late.text

        # 3. an accepted tasking cancelled before it is ordered: its hold released --------------------------
        # (the test stack orders an accepted request at once: provisioning is held back meanwhile, as an
        # operator who has not ordered yet would be; the cancellation must come before the order)
        a_held = a["accepted_area_km2"]
        await asyncio.to_thread(running_stack.kill, "provisioning")
        try:
            case = await circuit.decide(d["id"], "accepted")
            d_held = case["decisions"][-1]["accepted_area_km2"]
            assert d_held == pytest.approx(d["area_km2"])
            await circuit.until(d["id"], lambda r: r["status"] == "accepted")
            await circuit.burndown_becomes({"held_km2": before["held_km2"] + a_held + b_held + d_held,
                                            "released_km2": before["released_km2"]})
            cancelled = await me.post(f"/api/requests/{d['id']}/cancel", json={"reason": "Joining request B instead."})
            assert cancelled.status_code == 200, cancelled.text
            d = await circuit.until(d["id"], lambda r: r["status"] == "cancelled")
            assert d["who_must_act"] is None
        finally:
            await asyncio.to_thread(running_stack.restart, "provisioning")

        # 4. the burn-down: exactly what was accepted minus what was released --------------------------------
        expected = {"held_km2": before["held_km2"] + a_held + b_held,
                    "committed_km2": before["committed_km2"],
                    "released_km2": before["released_km2"] + d_held,
                    "remaining_km2": before["remaining_km2"] - a_held - b_held}
        after = await circuit.burndown_becomes(expected)
        assert (after["cell"], after["budget_km2"]) == (CELL, before["budget_km2"])

        # the requester sees the place the cell's queue shows; withdrawing a request in review holds nothing
        e = await circuit.until(e["id"], lambda r: r["status"] == "in_review" and r["queue"])
        listed = await eventually(queued(e["id"]), timeout=5)
        mine = {k: e["queue"][k] for k in ("cell", "position", "expected_decision_date")}
        assert mine == {"cell": CELL, **{k: listed[e["id"]][k] for k in ("position", "expected_decision_date")}}
        withdrawn = await me.post(f"/api/requests/{e['id']}/cancel", json={"reason": "Not needed any more."})
        assert withdrawn.status_code == 200, withdrawn.text
        await circuit.until(e["id"], lambda r: r["status"] == "cancelled")
        await asyncio.sleep(3)  # redeliveries and late consumers count nothing twice
        assert await circuit.burndown_becomes(expected, timeout=1)
        assert (await circuit.request(d["id"]))["status"] == "cancelled"  # a late order does not revive it
