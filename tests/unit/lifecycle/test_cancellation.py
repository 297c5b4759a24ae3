"""Cancellation rules on Retail POS Enterprise (quantity 1, cancelled three months out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sfsync.errors import InputError
from sfsync.lifecycle.cancellation import (
    CancellationLine,
    cancel_start_date,
    cancellation_problem,
    expected_cancellation,
    expected_line,
    validate_cancellation,
)
from sfsync.lifecycle.model import AssetSnapshot
from sfsync.lifecycle.terms import resolve

from .scenario import ORDER_ID, QUICKBOOKS, RETAIL_POS, TODAY, at

THREE_MONTHS_OUT = resolve("today+3m", TODAY)


def test_retail_pos_line_is_minus_one_ending_at_zero() -> None:
    """The cancellation line's quantity is minus the asset's quantity, so the end quantity is 0."""
    line = expected_line(RETAIL_POS)
    assert line == CancellationLine(RETAIL_POS.id, Decimal(1), Decimal(-1), Decimal(0))
    assert line.start_quantity + line.quantity == line.end_quantity


def test_quickbooks_line_removes_all_five_licences() -> None:
    """Five licences give a line of -5 ending at 0."""
    line = expected_line(QUICKBOOKS)
    assert (line.quantity, line.end_quantity) == (Decimal(-5), Decimal(0))


def test_retail_pos_effects_three_months_out() -> None:
    """Cancelled 2027-02-23: -1 quantity, -MRR, the last period and lifecycle end at 2027-02-22T23:59:59Z."""
    effects = expected_cancellation(RETAIL_POS, THREE_MONTHS_OUT, order_id=ORDER_ID)
    assert date(2027, 2, 23) == THREE_MONTHS_OUT
    assert effects.effective_at == at("2027-02-23T00:00:00")
    assert effects.period_end == at("2027-02-22T23:59:59")
    assert (effects.quantity_change, effects.mrr_change) == (Decimal(-1), Decimal("-125.00"))
    assert effects.previous_lifecycle_end == RETAIL_POS.lifecycle_end
    assert effects.order_id == ORDER_ID


def test_cancel_start_date_is_midnight_utc() -> None:
    """cancelStartDate is the date at 00:00:00.000Z."""
    assert cancel_start_date(THREE_MONTHS_OUT) == "2027-02-23T00:00:00.000Z"


def test_valid_dates_pass() -> None:
    """Today, three months out and the lifecycle end's own day are all acceptable."""
    for day in (TODAY, THREE_MONTHS_OUT, date(2027, 5, 22)):
        assert cancellation_problem(RETAIL_POS, day, today=TODAY) is None
        validate_cancellation(RETAIL_POS, day, today=TODAY)


@pytest.mark.parametrize(
    ("asset", "day", "words"),
    [
        (RETAIL_POS, date(2026, 11, 22), "cancellation date 2026-11-22 is in the past"),
        (RETAIL_POS, date(2027, 5, 23), "is after the asset's lifecycle end 2027-05-22T23:59:59"),
        (replace(RETAIL_POS, is_cancelled=True), THREE_MONTHS_OUT, "already cancelled"),
        (replace(RETAIL_POS, quantity=Decimal(0)), THREE_MONTHS_OUT, "nothing to cancel"),
        (
            replace(RETAIL_POS, lifecycle_start=at("2026-11-23T00:00:00")),
            TODAY,
            "not after the asset's lifecycle start",
        ),
    ],
)
def test_invalid_cancellations_say_why(asset: AssetSnapshot, day: date, words: str) -> None:
    """Past dates, dates after the end, cancelled or empty assets are refused with the reason."""
    problem = cancellation_problem(asset, day, today=TODAY)
    assert problem is not None
    assert words in problem
    with pytest.raises(InputError, match=f"asset {asset.id}: "):
        validate_cancellation(asset, day, today=TODAY)


def test_evergreen_asset_can_be_cancelled_any_future_day() -> None:
    """Without a lifecycle end, any date from today on is acceptable."""
    evergreen = replace(RETAIL_POS, lifecycle_end=None)
    assert cancellation_problem(evergreen, date(2040, 1, 1), today=TODAY) is None
    assert (
        expected_cancellation(evergreen, date(2040, 1, 1), order_id=ORDER_ID).previous_lifecycle_end is None
    )
