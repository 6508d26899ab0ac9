"""Property-based tests of the quota ledger (hypothesis): whatever the holds, commits and releases
asked for, in whatever order and however often, no budget goes negative, no case gives back or
spends more than it holds, and the balances depend only on the set of entries recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arbitration_service.domain.ledger import (
    ExceedsHold,
    Ledger,
    LedgerError,
    QuotaExceeded,
    balances,
    parse,
    to_km2,
)
from hypothesis import given, settings
from hypothesis import strategies as st

AT = datetime(2026, 5, 4, tzinfo=UTC)
CASES = [f"req-{i}" for i in range(6)]

hold = st.tuples(st.just("hold"), st.sampled_from(CASES), st.integers(1, 4_000_000_000))
commit = st.tuples(st.just("commit"), st.sampled_from(CASES), st.integers(0, 3), st.integers(1, 4_000_000_000))
release = st.tuples(st.just("release"), st.sampled_from(CASES), st.sampled_from(["cancelled", "failed", "undelivered"]),
                    st.one_of(st.none(), st.integers(0, 4_000_000_000)))
operations = st.lists(st.one_of(hold, commit, release), max_size=60)
budgets = st.integers(0, 10_000_000_000)


def apply(ledger: Ledger, op: tuple, budget: int) -> bool:
    """One operation; ``False`` when refused or already there."""
    try:
        if op[0] == "hold":
            return ledger.hold(op[1], op[2], budget, AT)
        if op[0] == "commit":
            return ledger.commit(op[1], op[2], op[3], budget, AT)
        return ledger.release(op[1], op[2], budget, AT, op[3])
    except LedgerError:
        return False


def check_invariants(ledger: Ledger, budget: int) -> None:
    b = ledger.balances(budget)
    assert budget - b.held_m2 - b.committed_m2 >= 0, "the budget went negative"
    assert b.held_m2 >= 0 and b.remaining_m2 >= 0
    for case in CASES:
        assert ledger.outstanding(case) >= 0, f"{case}: hold − commit − release < 0"


@settings(max_examples=300, deadline=None)
@given(operations, budgets)
def test_no_budget_goes_negative_and_no_case_gives_back_more_than_it_holds(ops, budget):
    ledger = Ledger("pleiades-science", "2026-Q2")
    for op in ops:
        apply(ledger, op, budget)
        check_invariants(ledger, budget)
    assert len(ledger.events) == sum(1 for m2 in ledger.entries.values() if m2)


@settings(max_examples=300, deadline=None)
@given(operations, budgets, st.randoms(use_true_random=False))
def test_replaying_duplicating_or_reordering_the_entries_leaves_the_balances_unchanged(ops, budget, rnd):
    ledger = Ledger("institutional", "2026")
    recorded = [op for op in ops if apply(ledger, op, budget)]  # what became entries (and events)
    before = ledger.balances(budget)

    replayed = Ledger("institutional", "2026", dict(ledger.entries))
    again = recorded + recorded[::-1]
    rnd.shuffle(again)
    for op in again:  # the stream again, twice, in any order: every entry id is there already
        assert not apply(replayed, op, budget)
    assert replayed.balances(budget) == before and replayed.entries == ledger.entries and not replayed.events

    shuffled = list(ledger.entries.items())
    rnd.shuffle(shuffled)
    assert balances(dict(shuffled), budget) == before
    assert balances(dict(shuffled + shuffled[: len(shuffled) // 2]), budget) == before  # duplicates


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 3_000_000_000), min_size=1, max_size=30), budgets)
def test_holds_taken_one_after_another_never_exceed_the_budget_and_a_refusal_says_what_is_left(areas, budget):
    ledger = Ledger("spot-science", "2026")
    for i, m2 in enumerate(areas):
        left = ledger.balances(budget).remaining_m2
        try:
            assert ledger.hold(f"req-{i}", m2, budget, AT)
        except QuotaExceeded as refused:
            assert m2 > left and refused.remaining_km2 == to_km2(left)
            assert f"has {to_km2(left):g} km² left of its {to_km2(budget):g} km² budget for 2026" in str(refused)
        else:
            assert m2 <= left
    assert ledger.balances(budget).held_m2 <= budget


def test_entry_ids_are_deterministic_and_a_case_released_before_its_hold_takes_none():
    ledger = Ledger("pleiades-science", "2026-Q2")
    assert ledger.release("req-1", "cancelled", 10, AT)  # the cancellation overtook the acceptance
    assert not ledger.hold("req-1", 5, 10, AT)
    assert ledger.hold("req-2", 7, 10, AT) and ledger.commit("req-2", 1, 4, 10, AT)
    assert ledger.release("req-2", "undelivered", 10, AT)
    assert ledger.entries == {"release:req-1:cancelled": 0, "hold:req-2": 7, "commit:req-2:1": 4,
                              "release:req-2:undelivered": 3}
    assert [parse(e) for e in ledger.entries] == [("release", "req-1"), ("hold", "req-2"), ("commit", "req-2"),
                                                  ("release", "req-2")]
    assert [(e.kind, e.m2, e.balances.remaining_m2) for e in ledger.events] == [
        ("hold", 7, 3), ("commit", 4, 3), ("release", 3, 6)]
    with pytest.raises(ExceedsHold, match="case req-2 holds 0 km²"):
        ledger.commit("req-2", 2, 1, 10, AT)
    with pytest.raises(LedgerError, match="short lower-case word"):
        ledger.release("req-2", "Cancelled: by me", 10, AT)
