"""Lifecycle plans of the emulated org: what a renewal, cancellation or amendment does to an asset.

Pure functions: given an asset's state periods, its annual unit price and the request, compute the
quote/order lines, the state-period edit and the AssetAction numbers. The action handlers use a plan
to build quotes and orders; assetization uses the same plan again at activation time, so the lines
the customer saw and the effects written agree. Boundaries and amounts follow ``periods.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sfsync.emulator.revenue.periods import (
    ONE_SECOND,
    LifecycleRuleError,
    Line,
    Period,
    PeriodEdit,
    Rollup,
    add_months,
    annual_amount,
    end_at,
    mrr,
    rollup,
    span_amount,
    start_at,
    term_end,
    term_months,
    truncate,
    years,
)

# The arithmetic of periods.py is part of this module's public API (one import for callers).
__all__ = [
    "ONE_SECOND",
    "LifecycleRuleError",
    "Line",
    "Period",
    "PeriodEdit",
    "Plan",
    "Rollup",
    "add_months",
    "annual_amount",
    "end_at",
    "mrr",
    "plan_amendment",
    "plan_cancellation",
    "plan_renewal",
    "rollup",
    "span_amount",
    "start_at",
    "term_end",
    "term_months",
    "truncate",
    "years",
]


@dataclass(frozen=True)
class Plan:
    """A change's lines, its state-period edit and the AssetAction it records."""

    category: str
    lines: list[Line]
    edit: PeriodEdit
    quantity_change: float
    mrr_change: float
    amount: float


def _bounds(periods: list[Period]) -> tuple[Period, Period]:
    if not periods:
        msg = "The asset has no asset state periods."
        raise LifecycleRuleError(msg)
    ordered = sorted(periods, key=lambda p: p.start)
    return ordered[0], max(ordered, key=lambda p: p.end)


def _holding(periods: list[Period], at: datetime) -> Period | None:
    return next((p for p in periods if p.start <= at <= p.end), None)


def plan_renewal(
    periods: list[Period],
    *,
    now: datetime,
    term: float | None,
    unit: str | None,
    unit_price: float,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Plan:
    """Automatic renewal (no dates: next term after the last period) or an override term.

    An override that starts before the current end adds a credit line for the unused remainder and
    ends the current period one second before the new start; a start after the end leaves a gap
    period with zero quantity (renewal of an expired asset).
    """
    first, last = _bounds(periods)
    new_start = last.end + ONE_SECOND if start is None else start_at(start)
    if start is None and new_start.date() < now.date():
        msg = "The asset has expired. Specify a renewal start date of today or later, and try again."
        raise LifecycleRuleError(msg)
    if start is not None and new_start.date() < now.date():
        msg = "The renewal start date can't be in the past."
        raise LifecycleRuleError(msg)
    if new_start <= first.start:
        msg = "The renewal start date must be after the asset's lifecycle start date."
        raise LifecycleRuleError(msg)
    new_end = end_at(end) if end is not None else term_end(new_start, term_months(term, unit))
    if new_end <= new_start:
        msg = "The renewal end date must be after the renewal start date."
        raise LifecycleRuleError(msg)
    quantity = last.quantity
    renewed = Period(new_start, new_end, quantity, last.mrr)
    amount = span_amount(quantity, unit_price, new_start, new_end)
    lines = [Line(new_start, new_end, quantity, 0.0, amount, "Renew")]
    edit = truncate(periods, new_start)
    if new_start <= last.end:
        held = _holding(periods, new_start) or last
        credit = span_amount(held.quantity, unit_price, new_start, last.end)
        lines.append(Line(new_start, last.end, -held.quantity, held.quantity, -credit, "Credit"))
    elif new_start > last.end + ONE_SECOND:
        edit.created.append(Period(last.end + ONE_SECOND, new_start - ONE_SECOND, 0.0, 0.0))
    edit.created.append(renewed)
    return Plan("Renewals", lines, edit, 0.0, 0.0, amount)


def plan_cancellation(periods: list[Period], *, at: datetime, unit_price: float) -> Plan:
    """Cancel from ``at``: no new period; the holding period ends one second before, later ones go."""
    first, last = _bounds(periods)
    at = start_at(at)
    if not first.start < at <= last.end:
        msg = (
            f"The cancellation date must be after the asset's lifecycle start date "
            f"({first.start:%Y-%m-%dT%H:%M:%SZ}) and no later than its lifecycle end date "
            f"({last.end:%Y-%m-%dT%H:%M:%SZ})."
        )
        raise LifecycleRuleError(msg)
    held = _holding(periods, at)
    if held is None or held.quantity <= 0:
        msg = "The asset has no quantity to cancel on the cancellation date."
        raise LifecycleRuleError(msg)
    remainder = sum(
        span_amount(p.quantity, unit_price, max(p.start, at), p.end) for p in periods if p.end >= at
    )
    remainder = round(remainder, 2)
    line = Line(at, last.end, -held.quantity, held.quantity, -remainder, "Cancel")
    return Plan("Cancellations", [line], truncate(periods, at), -held.quantity, -held.mrr, -remainder)


def plan_amendment(
    periods: list[Period], *, now: datetime, at: datetime, quantity_change: float, unit_price: float
) -> Plan:
    """Change the quantity from ``at`` to the end: the holding period is split, later ones regenerated."""
    first, last = _bounds(periods)
    at = start_at(at)
    if quantity_change == 0:
        msg = "Specify a value for quantityChange, and try again."
        raise LifecycleRuleError(msg)
    if at.date() < now.date():
        msg = "The amendment start date can't be in the past."
        raise LifecycleRuleError(msg)
    if not first.start <= at <= last.end:
        msg = "The amendment start date must be within the asset's lifecycle."
        raise LifecycleRuleError(msg)
    held = _holding(periods, at)
    if held is None:
        msg = "The asset has no asset state period on the amendment start date."
        raise LifecycleRuleError(msg)
    edit = truncate(periods, at)
    for period in sorted(periods, key=lambda p: p.start):
        if period.end < at:
            continue
        quantity = period.quantity + quantity_change
        if quantity < 0:
            msg = "The quantity change can't reduce the asset's quantity below zero."
            raise LifecycleRuleError(msg)
        begin = max(period.start, at)
        new_mrr = mrr(annual_amount(quantity, unit_price))
        edit.created.append(Period(begin, period.end, quantity, new_mrr))
    amount = span_amount(quantity_change, unit_price, at, last.end)
    new_held_mrr = mrr(annual_amount(held.quantity + quantity_change, unit_price))
    category = "Upsells" if quantity_change > 0 else "Downsells"
    line = Line(at, last.end, quantity_change, held.quantity, amount, "Amend")
    return Plan(category, [line], edit, quantity_change, round(new_held_mrr - held.mrr, 2), amount)
