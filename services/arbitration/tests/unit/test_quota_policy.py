"""The quota policy read from configuration: periods by mission, budgets and free volumes each
valid from a date, a new value superseding the old one from its date on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from arbitration_service.domain.policy import Period, PolicyError, QuotaPolicy, UnknownPeriod
from arbitration_service.settings import Settings


def policy(**changes) -> QuotaPolicy:
    config = {
        "periods": {"pleiades": [{"from": "2020-01-01", "value": "quarter"}],
                    "spot-6-7": [{"from": "2020-01-01", "value": "year"}]},
        "budgets_km2": {"pleiades-science": {"pleiades": [{"from": "2020-01-01", "value": 1000},
                                                          {"from": "2026-02-15", "value": 1500}]},
                        "institutional": {"pleiades": [{"from": "2020-01-01", "value": 400}],
                                          "spot-6-7": [{"from": "2020-01-01", "value": 9000}]},
                        "spot-science": {"spot-6-7": [{"from": "2020-01-01", "value": 20000}]}},
        "free_km2": {"pleiades": {"archive": [{"from": "2020-01-01", "value": 500},
                                              {"from": "2026-04-01", "value": 600}],
                                  "tasking": [{"from": "2020-01-01", "value": 250}]}},
    }
    config.update(changes)
    return QuotaPolicy.from_config(config)


def test_the_defaults_are_the_briefs_free_volumes_pleiades_by_quarter_and_spot_by_year():
    p = QuotaPolicy.from_config(Settings().arbitration_quota_policy)
    day = date(2026, 5, 4)
    assert [p.free_km2(m, k, day) for m in ("pleiades", "spot-6-7") for k in ("archive", "tasking")] == [
        500, 250, 5000, 2000]
    assert p.period_of("pleiades", day).label == "2026-Q2"
    assert p.period_of("spot-6-7", day).label == "2026"
    assert set(p.cells) == {"pleiades-science", "institutional", "spot-science"}


def test_periods_are_quarters_and_years_with_their_bounds():
    assert Period.parse("2026-Q4") == Period(date(2026, 10, 1), date(2027, 1, 1), "2026-Q4")
    assert Period.parse("2026") == Period(date(2026, 1, 1), date(2027, 1, 1), "2026")
    assert Period.of("quarter", date(2026, 3, 31)).label == "2026-Q1"
    assert Period.of("quarter", date(2026, 4, 1)).label == "2026-Q2"
    assert policy().period_of("pleiades", datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).label == "2026-Q4"
    for wrong in ("2026-Q5", "26", "2026-q1", "Q1-2026"):
        with pytest.raises(UnknownPeriod, match="write a year"):
            Period.parse(wrong)


def test_a_new_value_supersedes_the_old_one_from_its_date_on():
    p = policy()
    assert p.free_km2("pleiades", "archive", date(2026, 3, 31)) == 500
    assert p.free_km2("pleiades", "archive", date(2026, 4, 1)) == 600
    q1 = Period.parse("2026-Q1")
    assert p.budget_km2("pleiades-science", q1, date(2026, 2, 14)) == 1000  # before the raise
    assert p.budget_km2("pleiades-science", q1, date(2026, 2, 15)) == 1500  # from its date on
    assert p.budget_km2("pleiades-science", Period.parse("2025-Q4"), date(2026, 3, 1)) == 1000  # a past quarter
    assert p.budget_km2("pleiades-science", q1, date(2027, 1, 1)) == 1500  # its last day's value
    assert p.budget_km2("pleiades-science", Period.parse("2026-Q1"), date(2025, 6, 1)) == 1000  # ahead: its first


def test_a_period_kind_can_change_from_a_date():
    p = policy(periods={"pleiades": [{"from": "2020-01-01", "value": "quarter"},
                                     {"from": "2027-01-01", "value": "year"}],
                        "spot-6-7": [{"from": "2020-01-01", "value": "year"}]})
    assert p.period_of("pleiades", date(2026, 12, 31)).label == "2026-Q4"
    assert p.period_of("pleiades", date(2027, 1, 1)).label == "2027"


def test_a_cell_handling_both_missions_has_a_quarterly_and_a_yearly_budget():
    p = policy()
    today = date(2026, 5, 1)
    assert p.budget_km2("institutional", Period.parse("2026-Q2"), today) == 400
    assert p.budget_km2("institutional", Period.parse("2026"), today) == 9000
    assert p.current_period("institutional", today).label == "2026-Q2"
    assert p.current_period("spot-science", today).label == "2026"
    with pytest.raises(UnknownPeriod, match="spot-science cell counts its budget by year, not by quarter"):
        p.budget_km2("spot-science", Period.parse("2026-Q2"), today)


@pytest.mark.parametrize(("changes", "message"), [
    ({"budgets_km2": {"pleiades-science": {"pleiades": [{"from": "2020-01-01", "value": -1}]}}}, "not allowed"),
    ({"budgets_km2": {"pleiades-science": {"pleiades": [{"value": 1}]}}}, "needs a \"from\" date"),
    ({"budgets_km2": {"pleiades-science": {"pleiades": []}}}, "expected a list"),
    ({"budgets_km2": {"pleiades-science": {"venus": [{"from": "2020-01-01", "value": 1}]}}}, "has no period"),
    ({"periods": {"pleiades": [{"from": "2020-01-01", "value": "month"}]}}, "not allowed"),
    ({"free_km2": None}, "needs periods, budgets_km2 and free_km2"),
])
def test_a_policy_that_cannot_be_used_is_refused_saying_where(changes, message):
    with pytest.raises(PolicyError, match=message):
        policy(**changes)


def test_no_value_before_the_first_date():
    with pytest.raises(PolicyError, match="no value in force on 2019-12-31"):
        policy().free_km2("pleiades", "tasking", date(2019, 12, 31))
