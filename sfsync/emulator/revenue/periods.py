"""Period arithmetic of the emulated org: boundaries, terms, amounts and rollups.

Pure functions over plain data; no I/O and no clock reads (instants come in as arguments).

Conventions (salesforce-api.md Part 1, "Effects to verify", and the assumptions listed in README.md):

- all instants are aware UTC datetimes; a period starts at ``hh:mm:00`` and ends at ``hh:mm:59``;
  consecutive periods abut to the second;
- a term of *n* months from ``start`` ends one second before ``start + n months`` (so a year from
  2025-08-10T00:00:00Z ends 2025-08-09T23:59:59Z of the next year: "2025-08-10 → 2026-08-10");
- an end *requested* as a boundary instant (``2027-11-23T00:00:00Z``) means the period stops just
  before it (``2027-11-22T23:59:59Z``); an end already on ``:59`` is kept;
- a price is annual per unit: annual amount = quantity × unit price, MRR = annual amount / 12,
  the amount of a span = annual amount × its length in years (whole months + the fraction of the
  last month), rounded to cents.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ONE_SECOND = timedelta(seconds=1)

#: Months per RenewalTermUnit value (the four values of the live org's picklist).
UNIT_MONTHS: dict[str, int] = {"Months": 1, "Quarterly": 3, "Semi-Annual": 6, "Annual": 12}


class LifecycleRuleError(ValueError):
    """A requested change breaks a lifecycle rule; the message is what the org would say."""


@dataclass(frozen=True)
class Period:
    """An asset state period: a span with constant quantity and MRR (``id`` None = not stored yet)."""

    start: datetime
    end: datetime
    quantity: float
    mrr: float
    amount: float = 0.0
    id: str | None = None


@dataclass(frozen=True)
class PeriodEdit:
    """What a change does to an asset's periods: new ends for kept ones, deletions, creations."""

    new_ends: dict[str, datetime] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    created: list[Period] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    """A quote/order line a change produces: delta quantity over a span, and its amount."""

    start: datetime
    end: datetime
    quantity: float
    start_quantity: float
    amount: float
    kind: str  # "Renew" | "Credit" | "Cancel" | "Amend"


@dataclass(frozen=True)
class Rollup:
    """The Asset fields derived from its periods at an instant."""

    lifecycle_start: datetime | None
    lifecycle_end: datetime | None
    current_end: datetime | None
    current_quantity: float
    current_mrr: float


def utc(at: datetime) -> datetime:
    """The instant in UTC; naive datetimes are taken as UTC (as Salesforce does)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def start_at(at: datetime) -> datetime:
    """A period start: the instant truncated to the minute (starts end in ``:00``)."""
    return utc(at).replace(second=0, microsecond=0)


def end_at(at: datetime) -> datetime:
    """A period end from a requested end: kept when on ``:59``, else the second before the minute."""
    at = utc(at).replace(microsecond=0)
    return at if at.second == 59 else at.replace(second=0) - ONE_SECOND


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(at: datetime, months: int) -> datetime:
    """The same wall time ``months`` later; the day is clamped to the month's length."""
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    # calendar.monthrange's day count, without the weekday it also works out
    day = min(at.day, _MONTH_DAYS[month] + (month == 1 and calendar.isleap(year)))
    return at.replace(year=year, month=month + 1, day=day)


def term_months(term: float | None, unit: str | None) -> int:
    """Months in a renewal term (``RenewalTerm`` × the unit); LifecycleRuleError when unusable."""
    if term is None or unit is None or term <= 0:
        msg = "The asset has no renewal term. Specify a renewal term and try again."
        raise LifecycleRuleError(msg)
    if unit not in UNIT_MONTHS:
        msg = f"Unknown renewal term unit {unit!r}."
        raise LifecycleRuleError(msg)
    months = term * UNIT_MONTHS[unit]
    if months != int(months):
        msg = f"A renewal term of {term:g} {unit} is not a whole number of months."
        raise LifecycleRuleError(msg)
    return int(months)


def term_end(start: datetime, months: int) -> datetime:
    """The last second of a term of ``months`` starting at ``start``."""
    return add_months(start_at(start), months) - ONE_SECOND


def years(start: datetime, end: datetime) -> float:
    """Length in years of the span from ``start`` to ``end`` inclusive (whole months + fraction)."""
    stop = end + ONE_SECOND
    if stop <= start:
        return 0.0
    # estimate from the calendar, then correct by at most a step either way
    months = max(0, (stop.year - start.year) * 12 + stop.month - start.month)
    while months > 0 and add_months(start, months) > stop:
        months -= 1
    while add_months(start, months + 1) <= stop:
        months += 1
    edge = add_months(start, months)
    step = (add_months(start, months + 1) - edge).total_seconds()
    return (months + (stop - edge).total_seconds() / step) / 12


def annual_amount(quantity: float, unit_price: float) -> float:
    """Quantity × annual unit price, in cents (QuickBooks Online: 5 × 49.99 = 249.95)."""
    return round(quantity * unit_price, 2)


def mrr(annual: float) -> float:
    """Monthly recurring revenue of an annual amount (249.95 / 12 = 20.83)."""
    return round(annual / 12, 2)


def span_amount(quantity: float, unit_price: float, start: datetime, end: datetime) -> float:
    """The amount of ``quantity`` units over a span, prorated by its length in years."""
    return round(quantity * unit_price * years(start, end), 2)


def rollup(periods: list[Period], now: datetime) -> Rollup:
    """Lifecycle start/end and the current period's end, quantity and MRR (0 when none is current)."""
    if not periods:
        return Rollup(None, None, None, 0.0, 0.0)
    ordered = sorted(periods, key=lambda p: p.start)
    current = next((p for p in ordered if p.start <= now <= p.end), None)
    return Rollup(
        lifecycle_start=ordered[0].start,
        lifecycle_end=ordered[-1].end,
        current_end=current.end if current else None,
        current_quantity=current.quantity if current else 0.0,
        current_mrr=current.mrr if current else 0.0,
    )


def truncate(periods: list[Period], boundary: datetime) -> PeriodEdit:
    """End the period holding ``boundary`` one second before it; delete the periods after it."""
    edit = PeriodEdit()
    for period in periods:
        if period.id is None:
            continue
        if period.start >= boundary:
            edit.deleted.append(period.id)
        elif period.end >= boundary:
            edit.new_ends[period.id] = boundary - ONE_SECOND
    return edit
