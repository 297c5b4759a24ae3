"""Properties of the term arithmetic, over generated dates and terms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sfsync.lifecycle.cancellation import expected_cancellation
from sfsync.lifecycle.model import ONE_SECOND, day_start
from sfsync.lifecycle.terms import (
    UNIT_MONTHS,
    add_months_to_date,
    automatic_term,
    days_in_month,
    override_term,
    resolve,
)

from .scenario import ORDER_ID, QUICKBOOKS, RETAIL_POS

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31))
units = st.sampled_from(sorted(UNIT_MONTHS))
counts = st.integers(min_value=1, max_value=10)


@given(end_day=days, unit=units, count=counts, renewals=st.integers(min_value=1, max_value=6))
def test_automatic_renewals_abut_to_the_second(end_day: date, unit: str, count: int, renewals: int) -> None:
    """Successive automatic terms start one second after the previous end, at :00, and end at :59."""
    asset = replace(
        QUICKBOOKS,
        lifecycle_end=day_start(end_day) - ONE_SECOND,
        renewal_term=Decimal(count),
        renewal_term_unit=unit,
    )
    for _ in range(renewals):
        term = automatic_term(asset)
        assert asset.lifecycle_end is not None
        assert term.start == asset.lifecycle_end + ONE_SECOND
        assert term.end > term.start
        assert (term.start.second, term.end.second) == (0, 59)
        assert term.end + ONE_SECOND == day_start(
            add_months_to_date(term.start.date(), count * UNIT_MONTHS[unit])
        )
        asset = replace(asset, lifecycle_end=term.end)


@given(day=days, months=st.integers(min_value=-1200, max_value=1200))
def test_every_month_end_clamps(day: date, months: int) -> None:
    """Adding months moves the month index exactly and clamps the day to the target month's length."""
    result = add_months_to_date(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, days_in_month(result.year, result.month))
    target_length = days_in_month(result.year, result.month)
    if day.day == days_in_month(day.year, day.month) and target_length <= day.day:
        # A month end lands on the target's month end whenever the target month is not longer.
        assert result.day == target_length


@given(
    today=days,
    offset=st.integers(min_value=0, max_value=400),
    length=st.integers(min_value=1, max_value=4000),
)
def test_override_terms_are_well_formed(today: date, offset: int, length: int) -> None:
    """Any override from today or later: end > start, :00/:59 bounds, and the sent dates round-trip."""
    start = today + timedelta(days=offset)
    end = start + timedelta(days=length)
    term = override_term(start, end, today=today)
    assert term.end > term.start
    assert (term.start.second, term.end.second) == (0, 59)
    assert term.end + ONE_SECOND == day_start(end)
    inputs = term.action_inputs()
    assert inputs == {
        "renewStartDate": f"{start.isoformat()}T00:00:00.000Z",
        "renewEndDate": f"{end.isoformat()}T00:00:00.000Z",
    }


@given(today=days, number=st.integers(min_value=0, max_value=500))
def test_resolve_agrees_with_arithmetic(today: date, number: int) -> None:
    """today+Nd adds days, today+Nm adds months, today+Ny adds 12N months, today-Nd subtracts days."""
    assert resolve(f"today+{number}d", today) == today + timedelta(days=number)
    assert resolve(f"today-{number}d", today) == today - timedelta(days=number)
    assert resolve(f"today+{number}m", today) == add_months_to_date(today, number)
    assert resolve(f"today+{number}y", today) == add_months_to_date(today, 12 * number)


@given(day=st.dates(min_value=date(2026, 5, 24), max_value=date(2027, 5, 22)), quantity=st.integers(1, 10**6))
def test_cancellation_effects_balance(day: date, quantity: int) -> None:
    """For any acceptable date and quantity: changes undo the asset and the last period ends 1 s before."""
    asset = replace(RETAIL_POS, quantity=Decimal(quantity))
    effects = expected_cancellation(asset, day, order_id=ORDER_ID)
    assert asset.quantity + effects.quantity_change == 0
    assert asset.mrr + effects.mrr_change == 0
    assert effects.period_end + ONE_SECOND == effects.effective_at == day_start(day)
    assert effects.period_end.second == 59
