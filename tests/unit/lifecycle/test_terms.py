"""Renewal terms and date expressions, on the training unit's assets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sfsync.errors import InputError
from sfsync.lifecycle.terms import (
    RenewalTerm,
    add_months,
    add_months_to_date,
    automatic_term,
    check_expression,
    override_term,
    resolve,
    term_months,
)

from .scenario import QUICKBOOKS, TODAY, WORKSPACE, at


def test_quickbooks_automatic_term_follows_the_current_one() -> None:
    """QuickBooks' annual term renews from 2026-08-10T00:00:00Z to 2027-08-09T23:59:59Z."""
    term = automatic_term(QUICKBOOKS)
    assert term == RenewalTerm(at("2026-08-10T00:00:00"), at("2027-08-09T23:59:59"), override=False)
    assert term.action_inputs() == {}


def test_twelve_months_equal_one_year() -> None:
    """RenewalTerm 12 Months gives the same term as 1 Annual."""
    monthly = replace(QUICKBOOKS, renewal_term=Decimal(12), renewal_term_unit="Months")
    assert automatic_term(monthly) == automatic_term(QUICKBOOKS)


@pytest.mark.parametrize(
    ("term", "unit", "end"),
    [
        (Decimal(1), "Months", "2026-09-09T23:59:59"),
        (Decimal(1), "Quarterly", "2026-11-09T23:59:59"),
        (Decimal(1), "Semi-Annual", "2027-02-09T23:59:59"),
        (Decimal(2), "Annual", "2028-08-09T23:59:59"),
        (Decimal("0.5"), "Annual", "2027-02-09T23:59:59"),
    ],
)
def test_each_term_unit(term: Decimal, unit: str, end: str) -> None:
    """Every RenewalTermUnit value sets the term's length in months."""
    asset = replace(QUICKBOOKS, renewal_term=term, renewal_term_unit=unit)
    assert automatic_term(asset).end == at(end)


def test_month_end_start_clamps() -> None:
    """A term starting on Jan 31 runs one month to Feb 28 00:00, minus a second."""
    asset = replace(
        QUICKBOOKS,
        lifecycle_end=at("2027-01-30T23:59:59"),
        renewal_term=Decimal(1),
        renewal_term_unit="Months",
    )
    term = automatic_term(asset)
    assert (term.start, term.end) == (at("2027-01-31T00:00:00"), at("2027-02-27T23:59:59"))


@pytest.mark.parametrize(
    ("term", "unit", "words"),
    [
        (None, "Annual", "no renewal term"),
        (Decimal(1), None, "no renewal term"),
        (Decimal(1), "", "no renewal term"),
        (Decimal(1), "Years", "unknown RenewalTermUnit 'Years'"),
        (Decimal("1.5"), "Months", "not a positive whole number of months"),
        (Decimal(0), "Annual", "not a positive whole number of months"),
        (Decimal(-1), "Annual", "not a positive whole number of months"),
        (Decimal("NaN"), "Annual", "not a positive whole number of months"),
    ],
)
def test_unusable_term_is_a_clear_error(term: Decimal | None, unit: str | None, words: str) -> None:
    """A missing or unusable renewal term raises InputError naming the asset and the problem."""
    with pytest.raises(InputError, match=words) as caught:
        automatic_term(replace(QUICKBOOKS, renewal_term=term, renewal_term_unit=unit))
    assert QUICKBOOKS.id in str(caught.value)


def test_evergreen_asset_has_no_automatic_term() -> None:
    """Without a LifecycleEndDate there is nothing to renew from."""
    with pytest.raises(InputError, match="no LifecycleEndDate"):
        automatic_term(replace(QUICKBOOKS, lifecycle_end=None))


def test_term_months_of_each_unit() -> None:
    """Annual = 12, Semi-Annual = 6, Quarterly = 3, Months = 1 month per term unit."""
    got = [term_months(Decimal(2), unit) for unit in ("Annual", "Semi-Annual", "Quarterly", "Months")]
    assert got == [24, 12, 6, 2]


def test_workspace_override_today_to_one_year_from_today() -> None:
    """Google Workspace renewed today → today + 1 year: one year to the second, sent as two dates."""
    term = override_term(TODAY, resolve("today+1y", TODAY), today=TODAY)
    assert (term.start, term.end, term.override) == (
        at("2026-11-23T00:00:00"),
        at("2027-11-22T23:59:59"),
        True,
    )
    assert term.action_inputs() == {
        "renewStartDate": "2026-11-23T00:00:00.000Z",
        "renewEndDate": "2027-11-23T00:00:00.000Z",
    }
    # The override starts before the current end, which the override is allowed to do.
    assert WORKSPACE.lifecycle_end is not None
    assert term.start < WORKSPACE.lifecycle_end


def test_override_start_in_the_past_is_refused() -> None:
    """An override cannot start before today."""
    with pytest.raises(InputError, match=r"renewal start 2026-11-22 is in the past \(today is 2026-11-23\)"):
        override_term(date(2026, 11, 22), date(2027, 11, 22), today=TODAY)


@pytest.mark.parametrize("end", [date(2026, 11, 23), date(2026, 11, 1)])
def test_override_end_must_follow_start(end: date) -> None:
    """An override's end must be after its start."""
    with pytest.raises(InputError, match="must be after its start 2026-11-23"):
        override_term(TODAY, end, today=TODAY)


def test_one_day_override_is_one_day_long() -> None:
    """The shortest override (end = start + 1 day) covers exactly that day."""
    term = override_term(TODAY, date(2026, 11, 24), today=TODAY)
    assert (term.start, term.end) == (at("2026-11-23T00:00:00"), at("2026-11-23T23:59:59"))


def test_renewal_term_rejects_inverted_or_naive_bounds() -> None:
    """A term ending before it starts, or with naive datetimes, is misuse (ValueError)."""
    with pytest.raises(ValueError, match="before it starts"):
        RenewalTerm(at("2027-01-01T00:00:00"), at("2026-01-01T00:00:00"), override=False)
    with pytest.raises(ValueError, match="naive datetime"):
        RenewalTerm(at("2026-01-01T00:00:00").replace(tzinfo=None), at("2027-01-01T00:00:00"), override=False)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("today", date(2026, 11, 23)),
        ("TODAY", date(2026, 11, 23)),
        ("today+3m", date(2027, 2, 23)),
        ("today + 1y", date(2027, 11, 23)),
        ("today+30d", date(2026, 12, 23)),
        ("today+2w", date(2026, 12, 7)),
        ("today-1d", date(2026, 11, 22)),
        ("today+0d", date(2026, 11, 23)),
        (" 2027-02-28 ", date(2027, 2, 28)),
    ],
)
def test_resolve_expressions(expr: str, expected: date) -> None:
    """Job-relative expressions and ISO dates evaluate against the given today."""
    assert resolve(expr, TODAY) == expected


def test_resolve_clamps_month_ends() -> None:
    """today+1m on Jan 31 is the last day of February (leap years included)."""
    assert resolve("today+1m", date(2027, 1, 31)) == date(2027, 2, 28)
    assert resolve("today+1m", date(2028, 1, 31)) == date(2028, 2, 29)
    assert resolve("today+1y", date(2028, 2, 29)) == date(2029, 2, 28)


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("tomorrow", "is not a date"),
        ("today+3", "is not a date"),
        ("today+3x", "is not a date"),
        ("2027-02-30", "is not a real date"),
        ("27-02-01", "is not a date"),
        ("", "is not a date"),
        ("today+99999y", "out of range"),
    ],
)
def test_resolve_rejects_bad_expressions(expr: str, words: str) -> None:
    """Unparseable, impossible or out-of-range expressions raise InputError with guidance."""
    with pytest.raises(InputError, match=words):
        resolve(expr, TODAY)
    with pytest.raises(InputError):
        check_expression(expr)


def test_check_expression_accepts_valid_ones() -> None:
    """check_expression returns quietly for valid expressions (the job parser's check)."""
    for expr in ("today", "today+3m", "2027-01-01"):
        check_expression(expr)
    assert resolve("today+3m", TODAY) > TODAY


def test_add_months_keeps_time_and_clamps() -> None:
    """add_months keeps the wall time and clamps the day; dates out of range overflow."""
    assert add_months(at("2027-03-31T12:34:56"), -1) == at("2027-02-28T12:34:56")
    assert add_months_to_date(date(2026, 12, 15), 1) == date(2027, 1, 15)
    with pytest.raises(OverflowError):
        add_months_to_date(date(9999, 12, 1), 1)
