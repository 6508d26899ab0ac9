"""Orders live by elapsed time: received, (tasking) acquiring with weather, production, delivered; what the
API answers and notifies at each step, on a fake clock."""

from __future__ import annotations

from decimal import Decimal

import pytest


def test_an_archive_order_is_received_then_produced_then_delivered_after_its_delays(airbus):
    placed = airbus.http.post("/api/v1/orders", json=airbus.archive("req-a"))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["customer_reference"], order["kind"]) == ("received", "req-a", "archive")
    url = f"/api/v1/orders/{order['id']}"

    airbus.advance(4.9)
    assert airbus.http.get(url).json()["status"] == "received"
    airbus.advance(0.2)
    assert airbus.http.get(url).json()["status"] == "production"
    airbus.advance(20)
    seen = airbus.http.get(url).json()
    assert seen["status"] == "delivered"
    assert seen["coverage_percent"] == 100.0 and seen["failure_reason"] is None
    assert seen["updated_at"] > seen["created_at"]
    assert [(n["event"], n["status"]) for n in airbus.notifier.sent] == [("status", "production"),
                                                                         ("status", "delivered")]
    assert {n["order_id"] for n in airbus.notifier.sent} == {order["id"]}
    assert airbus.http.get(f"{url}/delivery").headers["content-type"] == "application/zip"


def test_a_tasking_is_acquired_in_two_attempts_the_first_cloudy_then_produced_and_delivered(airbus):
    order = airbus.http.post("/api/v1/orders", json=airbus.tasking("req-t")).json()
    url = f"/api/v1/orders/{order['id']}"
    airbus.advance(5)
    assert airbus.http.get(url).json()["status"] == "acquiring"
    assert airbus.http.get(f"{url}/acquisitions").json() == {"items": []}

    airbus.advance(10)
    first = airbus.http.get(f"{url}/acquisitions").json()["items"]
    assert [(a["attempt"], a["outcome"], a["coverage_percent"]) for a in first] == [(1, "cloudy", 60.0)]
    assert airbus.http.get(url).json()["coverage_percent"] == 60.0

    airbus.advance(10)
    later = airbus.http.get(f"{url}/acquisitions", params={"since": 1}).json()["items"]
    assert [(a["attempt"], a["outcome"], a["coverage_percent"]) for a in later] == [(2, "acquired", 100.0)]
    assert airbus.http.get(url).json()["status"] == "production"
    airbus.advance(20)
    assert airbus.http.get(url).json()["status"] == "delivered"
    assert [(n["event"], n["status"]) for n in airbus.notifier.sent] == [
        ("status", "acquiring"), ("acquisition", "acquiring"), ("acquisition", "acquiring"),
        ("status", "production"), ("status", "delivered")]


def test_random_weather_is_the_same_for_the_same_seed_and_a_window_can_close_unacquired(make_airbus):
    airbus = make_airbus(weather_random=True, seed=7, weather_cloudy_share=1.0, weather_max_attempts=3)
    order = airbus.http.post("/api/v1/orders", json=airbus.tasking()).json()
    airbus.advance(5 + 3 * 10)
    seen = airbus.http.get(f"/api/v1/orders/{order['id']}").json()
    attempts = airbus.http.get(f"/api/v1/orders/{order['id']}/acquisitions").json()["items"]
    assert [a["outcome"] for a in attempts] == ["cloudy"] * 3
    assert seen["status"] == "failed" and "3 attempts" in seen["failure_reason"]
    assert seen["coverage_percent"] == attempts[-1]["coverage_percent"] < 100
    plan = airbus.sim.store.orders[order["id"]].plan
    from airbus_simulator.orders import weather_plan

    assert weather_plan(order["id"], [], True, 7, 1.0, 3) == plan
    assert weather_plan(order["id"], [], True, 8, 1.0, 3) != plan


def test_the_order_is_found_by_its_customer_reference_and_a_second_one_is_a_second_order(airbus):
    assert airbus.http.get("/api/v1/orders", params={"customer_reference": "req-dup"}).json() == {"items": []}
    first = airbus.http.post("/api/v1/orders", json=airbus.archive("req-dup")).json()
    airbus.advance(1)
    second = airbus.http.post("/api/v1/orders", json=airbus.archive("req-dup")).json()
    found = airbus.http.get("/api/v1/orders", params={"customer_reference": "req-dup"}).json()["items"]
    assert [o["id"] for o in found] == [first["id"], second["id"]]
    assert airbus.http.get("/_simulator/orders").json()["by_customer_reference"] == {"req-dup": 2}


def test_prices_follow_the_tariff_with_invoicing_minimums_and_stereo_factors(airbus):
    small = airbus.http.post("/api/v1/prices", json=airbus.archive()).json()
    assert small["area_km2"] == pytest.approx(62.6, abs=0.5)  # 0.1° × 0.07° at 43.6° N
    assert small["invoiced_km2"] == small["area_km2"]  # above the 25 km² archive minimum
    assert Decimal(small["price"]) == (Decimal(str(small["invoiced_km2"])) * 10).quantize(Decimal("0.01"))
    airbus.clock.advance(1)
    tiny = {**airbus.archive(mission="SPOT"), "items": [{"scene_id": "s", "aoi": {"type": "Polygon", "coordinates": [
        [[1.40, 43.55], [1.42, 43.55], [1.42, 43.56], [1.40, 43.56], [1.40, 43.55]]]}}]}
    tiny_price = airbus.http.post("/api/v1/prices", json=tiny).json()
    assert tiny_price["area_km2"] < 5 and tiny_price["invoiced_km2"] == 25.0
    assert tiny_price["price"] == "87.50"  # 25 km² at 3.50
    prices = {}
    for mode in ("mono", "stereo", "tristereo"):
        airbus.clock.advance(1)
        body = {**airbus.archive(), "kind": "tasking", "aoi": airbus.aoi, "mode": mode, "items": None}
        prices[mode] = airbus.http.post("/api/v1/prices", json=body).json()
    assert {p["invoiced_km2"] for p in prices.values()} == {100.0}  # the tasking minimum
    assert [Decimal(p["price"]) for p in prices.values()] == [Decimal("2500.00"), Decimal("5000.00"),
                                                               Decimal("7500.00")]


def test_an_archive_order_has_one_to_five_items(airbus):
    refused = airbus.http.post("/api/v1/orders", json=airbus.archive(items=6))
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_items"
    airbus.clock.advance(1)
    assert airbus.http.post("/api/v1/orders", json=airbus.archive(items=5)).status_code == 201
    airbus.clock.advance(1)
    open_ring = {**airbus.archive(), "items": [{"scene_id": "s", "aoi": {
        "type": "Polygon", "coordinates": [[[1.4, 43.5], [1.5, 43.5], [1.5, 43.6], [1.4, 43.6]]]}}]}
    refused = airbus.http.post("/api/v1/orders", json=open_ring)
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_aoi"


@pytest.mark.parametrize(("start_hours", "hours", "mode", "reason"), [
    (-240, 24, "mono", "ends in the past"),
    (24, 240, "mono", "less than 48 h ahead"),
    (72, 36, "stereo", "at least 48 h"),
])
def test_feasibility_refuses_impossible_windows_and_such_an_answer_cannot_be_ordered(
        airbus, start_hours, hours, mode, reason):
    window = airbus.window(start_hours, hours)
    answer = airbus.http.post("/api/v1/feasibility", json={"mission": "SPOT", "aoi": airbus.aoi, "window": window,
                                                            "mode": mode}).json()
    assert answer["feasible"] is False and reason in answer["reason"]
    airbus.clock.advance(1)
    refused = airbus.http.post("/api/v1/orders", json={
        "customer_reference": "r", "kind": "tasking", "mission": "SPOT", "aoi": airbus.aoi,
        "feasibility_id": answer["id"], "window": window, "mode": mode})
    assert refused.status_code == 422 and refused.json()["error"] == "not_feasible"


def test_a_feasible_answer_says_how_and_expires(make_airbus):
    airbus = make_airbus(token_seconds=10**6)
    body = airbus.tasking()
    answer = airbus.sim.store.feasibilities[body["feasibility_id"]]
    assert (answer["feasible"], answer["automation"], answer["classification"]) == (True, "AUTOMATIC", "EASY")
    airbus.clock.advance(86400)
    refused = airbus.http.post("/api/v1/orders", json=body)
    assert refused.status_code == 422 and refused.json()["error"] == "feasibility_expired"
    airbus.clock.advance(1)
    unknown = airbus.http.post("/api/v1/orders", json={**body, "feasibility_id": "FEA-NONE"})
    assert unknown.json()["error"] == "unknown_feasibility"


def test_cancel_before_production_gives_the_credit_back_and_is_refused_after(airbus):
    credit = Decimal(airbus.http.get("/api/v1/contracts").json()["items"][0]["remaining_credit"])
    early = airbus.http.post("/api/v1/orders", json=airbus.archive("req-c1")).json()
    after = Decimal(airbus.http.get("/api/v1/contracts").json()["items"][0]["remaining_credit"])
    assert after == credit - Decimal(early["price"])
    airbus.clock.advance(1)  # cancelling is an ordering call too: one a second
    cancelled = airbus.http.post(f"/api/v1/orders/{early['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert Decimal(airbus.http.get("/api/v1/contracts").json()["items"][0]["remaining_credit"]) == credit

    airbus.advance(1)
    late = airbus.http.post("/api/v1/orders", json=airbus.archive("req-c2")).json()
    airbus.advance(6)
    refused = airbus.http.post(f"/api/v1/orders/{late['id']}/cancel")
    assert refused.status_code == 409 and refused.json()["error"] == "not_cancellable"
    airbus.advance(60)
    assert airbus.http.get(f"/api/v1/orders/{early['id']}").json()["status"] == "cancelled"
    assert airbus.http.get(f"/api/v1/orders/{late['id']}").json()["status"] == "delivered"


def test_an_order_beyond_the_remaining_credit_is_refused(make_airbus):
    airbus = make_airbus(credit=Decimal("100.00"))
    refused = airbus.http.post("/api/v1/orders", json=airbus.archive())
    assert refused.status_code == 422 and refused.json()["error"] == "insufficient_credit"


def test_a_restarted_simulator_keeps_its_orders_where_their_delays_put_them(make_airbus):
    first = make_airbus()
    order = first.http.post("/api/v1/orders", json=first.archive("req-keep")).json()
    first.advance(6)
    first.close()

    again = make_airbus()
    again.clock.advance(6 + 30)  # the same start, later
    seen = again.http.get(f"/api/v1/orders/{order['id']}").json()
    assert (seen["id"], seen["status"], seen["price"]) == (order["id"], "delivered", order["price"])
    assert again.http.get("/_simulator/orders").json()["by_customer_reference"] == {"req-keep": 1}


def test_tokens_come_from_a_known_api_key_and_expire(airbus):
    assert airbus.http.post("/api/v1/auth/token", data={"apikey": "wrong"}).status_code == 401
    bare = airbus.http.get("/api/v1/contracts", headers={"Authorization": "Bearer forged.token"})
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_token"
    airbus.clock.advance(3600)
    expired = airbus.http.get("/api/v1/contracts")
    assert expired.status_code == 401 and expired.json()["error"] == "token_expired"
