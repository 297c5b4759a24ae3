"""Lifecycle arithmetic of the emulated org, on the training units' numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfsync.emulator.revenue.lifecycle import plan_amendment, plan_cancellation, plan_renewal
from sfsync.emulator.revenue.periods import (
    LifecycleRuleError,
    Period,
    add_months,
    annual_amount,
    end_at,
    mrr,
    rollup,
    span_amount,
    start_at,
    term_end,
    term_months,
    years,
)


def at(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


QBO_START = at("2025-08-10T00:00:00")
QBO_END = at("2026-08-09T23:59:59")
QBO = Period(QBO_START, QBO_END, 5.0, 20.83, 249.95, id="4nK")


def test_quickbooks_numbers_are_consistent() -> None:
    """5 licences at 49.99 make 249.95 a year and an MRR of 20.83."""
    assert annual_amount(5, 49.99) == 249.95
    assert mrr(249.95) == 20.83


def test_one_year_term_from_the_seed_start() -> None:
    """12 Months and 1 Annual from 2025-08-10 both end the second before 2026-08-10."""
    assert term_end(QBO_START, term_months(12, "Months")) == QBO_END
    assert term_end(QBO_START, term_months(1, "Annual")) == QBO_END
    assert span_amount(5, 49.99, QBO_START, QBO_END) == 249.95


@pytest.mark.parametrize(
    ("term", "unit", "months"),
    [(12, "Months", 12), (1, "Annual", 12), (2, "Quarterly", 6), (1, "Semi-Annual", 6), (3, "Months", 3)],
)
def test_term_months_per_unit(term: float, unit: str, months: int) -> None:
    """Every RenewalTermUnit value converts to whole months."""
    assert term_months(term, unit) == months


@pytest.mark.parametrize(("term", "unit"), [(None, "Months"), (12, None), (0, "Annual"), (1, "Weeks")])
def test_term_months_refuses_missing_or_unknown_terms(term: float | None, unit: str | None) -> None:
    """A missing term, unit or an unknown unit blocks an automatic renewal."""
    with pytest.raises(LifecycleRuleError):
        term_months(term, unit)


def test_month_end_is_clamped() -> None:
    """Adding a month to 31 January lands on the last day of February."""
    assert add_months(at("2026-01-31T10:00:00"), 1) == at("2026-02-28T10:00:00")
    assert add_months(at("2028-01-31T10:00:00"), 1) == at("2028-02-29T10:00:00")


def test_boundaries_end_in_00_and_59() -> None:
    """Starts are truncated to the minute; a requested end stops one second before its minute."""
    assert start_at(at("2026-11-23T10:15:42.5")) == at("2026-11-23T10:15:00")
    assert end_at(at("2027-11-23T00:00:00")) == at("2027-11-22T23:59:59")
    assert end_at(at("2027-11-22T23:59:59.250")) == at("2027-11-22T23:59:59")
    naive = datetime(2027, 1, 1, 0, 0)  # noqa: DTZ001 - Salesforce takes a zoneless datetime as UTC
    assert end_at(naive) == at("2026-12-31T23:59:59")


def test_years_counts_months_and_fraction() -> None:
    """A span's length is whole months plus the fraction of the month it ends in."""
    assert years(QBO_START, QBO_END) == 1.0
    assert years(at("2026-01-01T00:00:00"), at("2026-01-16T11:59:59")) == pytest.approx(15.5 / 31 / 12)


def test_automatic_renewal_continues_one_second_later() -> None:
    """An automatic renewal starts one second after the last period and runs one term."""
    plan = plan_renewal([QBO], now=at("2026-07-20T08:00:00"), term=12, unit="Months", unit_price=49.99)
    (line,) = plan.lines
    assert line.start == at("2026-08-10T00:00:00")
    assert line.end == at("2027-08-09T23:59:59")
    assert (line.quantity, line.amount) == (5.0, 249.95)
    (new,) = plan.edit.created
    assert (new.start, new.end, new.quantity, new.mrr) == (line.start, line.end, 5.0, 20.83)
    assert plan.edit.new_ends == {}
    assert plan.edit.deleted == []
    assert (plan.category, plan.quantity_change, plan.mrr_change, plan.amount) == ("Renewals", 0, 0, 249.95)


def test_override_renewal_credits_the_unused_remainder() -> None:
    """Overriding from a date inside the term ends the period the second before and credits the rest."""
    later = Period(at("2026-08-10T00:00:00"), at("2027-08-09T23:59:59"), 5.0, 20.83, id="4nK2")
    plan = plan_renewal(
        [QBO, later],
        now=at("2026-02-10T09:30:00"),
        term=12,
        unit="Months",
        unit_price=49.99,
        start=at("2026-02-10T00:00:00"),
        end=at("2027-02-10T00:00:00"),
    )
    renew, credit = plan.lines
    assert (renew.start, renew.end, renew.quantity) == (
        at("2026-02-10T00:00:00"),
        at("2027-02-09T23:59:59"),
        5.0,
    )
    assert renew.amount == 249.95
    assert (credit.start, credit.end, credit.quantity, credit.start_quantity) == (
        at("2026-02-10T00:00:00"),
        at("2027-08-09T23:59:59"),
        -5.0,
        5.0,
    )
    assert credit.amount == -span_amount(5, 49.99, at("2026-02-10T00:00:00"), at("2027-08-09T23:59:59"))
    assert plan.edit.new_ends == {"4nK": at("2026-02-09T23:59:59")}
    assert plan.edit.deleted == ["4nK2"]
    assert [p.start for p in plan.edit.created] == [at("2026-02-10T00:00:00")]


def test_renewal_refuses_a_past_start() -> None:
    """A renewal cannot be back-dated before today."""
    with pytest.raises(LifecycleRuleError, match="past"):
        plan_renewal(
            [QBO],
            now=at("2026-02-10T09:30:00"),
            term=12,
            unit="Months",
            unit_price=1,
            start=at("2026-02-09T00:00"),
        )


def test_renewal_of_an_expired_asset_leaves_a_zero_gap() -> None:
    """A renewal starting after the lifecycle end fills the gap with a zero-quantity period."""
    plan = plan_renewal(
        [QBO],
        now=at("2026-09-01T00:00:00"),
        term=12,
        unit="Months",
        unit_price=49.99,
        start=at("2026-09-01T00:00"),
    )
    gap, new = plan.edit.created
    assert (gap.start, gap.end, gap.quantity) == (at("2026-08-10T00:00:00"), at("2026-08-31T23:59:59"), 0.0)
    assert new.start == at("2026-09-01T00:00:00")
    assert len(plan.lines) == 1


def test_cancellation_truncates_and_creates_no_period() -> None:
    """Cancelling ends the holding period one second before the date and adds no period."""
    pos = Period(at("2026-05-23T00:00:00"), at("2027-05-22T23:59:59"), 1.0, 100.0, id="4nKpos")
    plan = plan_cancellation([pos], at=at("2027-02-23T00:00:00"), unit_price=1200.0)
    assert plan.edit.created == []
    assert plan.edit.new_ends == {"4nKpos": at("2027-02-22T23:59:59")}
    (line,) = plan.lines
    assert (line.quantity, line.start_quantity, line.start_quantity + line.quantity) == (-1.0, 1.0, 0.0)
    remainder = span_amount(1, 1200.0, at("2027-02-23T00:00:00"), at("2027-05-22T23:59:59"))
    assert remainder == 300.0
    assert (plan.category, plan.quantity_change, plan.mrr_change, plan.amount) == (
        "Cancellations",
        -1.0,
        -100.0,
        -300.0,
    )


@pytest.mark.parametrize("when", ["2025-08-10T00:00:00", "2025-07-01T00:00:00", "2026-08-10T00:00:00"])
def test_cancellation_outside_the_life_is_refused(when: str) -> None:
    """A cancellation date at or before the start, or after the end, is refused."""
    with pytest.raises(LifecycleRuleError, match="cancellation date"):
        plan_cancellation([QBO], at=at(when), unit_price=49.99)


def test_amendment_splits_the_holding_period() -> None:
    """Adding two licences from a date splits the period and records an upsell."""
    plan = plan_amendment(
        [QBO], now=at("2026-02-10T00:00"), at=at("2026-02-10T00:00"), quantity_change=2, unit_price=49.99
    )
    assert plan.edit.new_ends == {"4nK": at("2026-02-09T23:59:59")}
    (new,) = plan.edit.created
    assert (new.start, new.end, new.quantity, new.mrr) == (
        at("2026-02-10T00:00"),
        QBO_END,
        7.0,
        mrr(annual_amount(7, 49.99)),
    )
    assert plan.category == "Upsells"
    assert plan.mrr_change == round(mrr(annual_amount(7, 49.99)) - 20.83, 2)


def test_amendment_cannot_go_below_zero() -> None:
    """A downsell larger than the quantity is refused."""
    with pytest.raises(LifecycleRuleError, match="below zero"):
        plan_amendment(
            [QBO], now=at("2026-02-10T00:00"), at=at("2026-02-10T00:00"), quantity_change=-6, unit_price=1
        )


def test_rollup_reads_the_current_period() -> None:
    """Rollups take the lifecycle bounds from all periods and the quantity from the current one."""
    renewed = Period(at("2026-08-10T00:00:00"), at("2027-08-09T23:59:59"), 5.0, 20.83)
    roll = rollup([renewed, QBO], at("2026-09-01T00:00:00"))
    assert (roll.lifecycle_start, roll.lifecycle_end, roll.current_end) == (
        QBO_START,
        renewed.end,
        renewed.end,
    )
    assert (roll.current_quantity, roll.current_mrr) == (5.0, 20.83)
    assert rollup([QBO], at("2030-01-01T00:00:00")).current_quantity == 0.0


def test_automatic_renewal_of_an_expired_asset_needs_a_start() -> None:
    """Renewing an expired asset needs an explicit start date (Salesforce Help: expired assets)."""
    with pytest.raises(LifecycleRuleError, match="expired"):
        plan_renewal([QBO], now=at("2026-09-01T00:00:00"), term=12, unit="Months", unit_price=49.99)
