"""Property tests: after any renewal, cancellation or amendment, periods still abut on :00/:59 bounds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sfsync.emulator.revenue.lifecycle import Plan, plan_amendment, plan_cancellation, plan_renewal
from sfsync.emulator.revenue.periods import ONE_SECOND, LifecycleRuleError, Period, term_end

BASE = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> list[Period]:
    """One to four abutting periods with whole-month terms."""
    start = BASE + timedelta(days=draw(st.integers(0, 400)))
    periods = []
    for index in range(draw(st.integers(1, 4))):
        end = term_end(start, draw(st.integers(1, 24)))
        periods.append(Period(start, end, float(draw(st.integers(1, 40))), 10.0, id=f"p{index}"))
        start = end + ONE_SECOND
    return periods


def apply(periods: list[Period], plan: Plan) -> list[Period]:
    """The periods after a plan's edit."""
    kept = [
        Period(p.start, plan.edit.new_ends.get(p.id or "", p.end), p.quantity, p.mrr, id=p.id)
        for p in periods
        if p.id not in plan.edit.deleted
    ]
    return sorted(kept + plan.edit.created, key=lambda p: p.start)


def assert_well_formed(periods: list[Period]) -> None:
    """Starts on :00, ends on :59, each start one second after the previous end."""
    for period in periods:
        assert period.start.second == 0
        assert period.end.second == 59
        assert period.start < period.end
    for before, after in itertools.pairwise(periods):
        assert after.start == before.end + ONE_SECOND


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(-200, 900), st.integers(1, 36))
def test_renewal_keeps_periods_abutting(periods: list[Period], offset: int, months: int) -> None:
    """Automatic and override renewals leave a well-formed, gap-free history."""
    now = min(periods[0].start + timedelta(days=max(offset, 1)), periods[-1].end)
    plan = plan_renewal(periods, now=now, term=months, unit="Months", unit_price=12.0)
    assert_well_formed(apply(periods, plan))
    start = now.replace(hour=0, minute=0, second=0) + timedelta(days=3)
    try:
        override = plan_renewal(
            periods, now=now, term=None, unit=None, unit_price=12.0, start=start, end=term_end(start, months)
        )
    except LifecycleRuleError:
        return  # e.g. a start before the lifecycle start
    after = apply(periods, override)
    assert_well_formed(after)
    assert after[-1].end == term_end(start, months)


@settings(max_examples=200, deadline=None)
@given(histories(), st.floats(0.01, 0.99))
def test_cancellation_truncates_without_new_periods(periods: list[Period], where: float) -> None:
    """A cancellation inside the life adds no period and ends the life one second before its date."""
    span = (periods[-1].end - periods[0].start).total_seconds()
    at = (periods[0].start + timedelta(seconds=span * where)).replace(second=0, microsecond=0) + timedelta(
        minutes=1
    )
    try:
        plan = plan_cancellation(periods, at=at, unit_price=12.0)
    except LifecycleRuleError:
        return  # a date at the very edge of the life
    after = apply(periods, plan)
    assert plan.edit.created == []
    assert_well_formed(after)
    assert after[-1].end == at - ONE_SECOND
    assert plan.quantity_change < 0
    assert plan.amount <= 0


@settings(max_examples=200, deadline=None)
@given(histories(), st.floats(0.0, 0.99), st.integers(-5, 5).filter(bool))
def test_amendment_changes_quantity_from_its_start(periods: list[Period], where: float, change: int) -> None:
    """An amendment keeps the life's bounds and shifts every later quantity by the change."""
    span = (periods[-1].end - periods[0].start).total_seconds()
    at = (periods[0].start + timedelta(seconds=span * where)).replace(second=0, microsecond=0)
    try:
        plan = plan_amendment(periods, now=periods[0].start, at=at, quantity_change=change, unit_price=12.0)
    except LifecycleRuleError:
        return  # would go below zero
    after = apply(periods, plan)
    assert_well_formed(after)
    assert (after[0].start, after[-1].end) == (periods[0].start, periods[-1].end)
    before_at = {p.start: p.quantity for p in periods}
    for period in after:
        if period.start >= at:
            holding = next(p for p in periods if p.start <= period.start <= p.end)
            assert period.quantity == holding.quantity + change
        else:
            assert period.quantity == before_at[period.start]
