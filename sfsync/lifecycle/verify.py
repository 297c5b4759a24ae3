"""Judge what Salesforce shows after a renewal or a cancellation: verified, pending or mismatch.

Assetization finishes asynchronously, so absence is not failure: anything *not yet visible* (no
asset action, no new period, an end date not moved yet) is :class:`Pending`, and the engine polls
again until its deadline. Anything *visible and wrong* (a period with other dates, a second action,
a new period after a cancellation, an end date moved elsewhere) is a :class:`Mismatch` that says
exactly what differed. A period counts as new when neither its ID nor its start instant existed
before, because Salesforce may delete and regenerate a shortened period under a new ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, TypeAlias

from sfsync.lifecycle.cancellation import ExpectedCancellation
from sfsync.lifecycle.model import (
    CANCELLATIONS,
    RENEWALS,
    AssetSnapshot,
    ObservedAction,
    ObservedPeriod,
    fmt,
    money_equal,
)
from sfsync.lifecycle.polling import poll_delays
from sfsync.lifecycle.renewal import ExpectedRenewal

__all__ = [
    "Difference",
    "Mismatch",
    "Pending",
    "Verdict",
    "Verified",
    "judge_cancellation",
    "judge_renewal",
    "poll_delays",
]


@dataclass(frozen=True, slots=True)
class Difference:
    """One field that differed: what a success must show and what Salesforce showed."""

    field: str
    expected: str
    observed: str


@dataclass(frozen=True, slots=True)
class Verified:
    """Every effect a success must produce is visible; ``action_id`` is the asset action found."""

    action_id: str
    status: ClassVar[Literal["verified"]] = "verified"


@dataclass(frozen=True, slots=True)
class Pending:
    """Not everything is visible yet; poll again (the reason is the last thing missing)."""

    reason: str
    status: ClassVar[Literal["pending"]] = "pending"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Salesforce shows something a success cannot produce; ``details`` lists what differed."""

    reason: str
    details: tuple[Difference, ...] = ()
    status: ClassVar[Literal["mismatch"]] = "mismatch"


#: What a judge returns; ``verdict.status`` is ``verified``, ``pending`` or ``mismatch``.
Verdict: TypeAlias = Verified | Pending | Mismatch


def _diff(field: str, expected: object, observed: object) -> Difference:
    return Difference(field, fmt(expected), fmt(observed))


def _order_actions(
    actions: Sequence[ObservedAction], order_id: str, category: str
) -> tuple[list[ObservedAction], Mismatch | None]:
    """The order's actions of the category, or a mismatch for extras or wrong categories."""
    ours = [a for a in actions if a.order_id == order_id]
    wrong = [a for a in ours if a.category != category]
    if wrong:
        return [], Mismatch(
            f"asset action {wrong[0].id} of order {order_id} has business category {wrong[0].category!r}",
            (_diff("AssetAction.CategoryEnum", category, wrong[0].category),),
        )
    if len(ours) > 1:
        ids = ", ".join(a.id for a in ours)
        return [], Mismatch(
            f"{len(ours)} {category} asset actions for order {order_id} ({ids}); expected one",
            (_diff("AssetAction count", 1, len(ours)),),
        )
    return ours, None


def _fresh(before: Sequence[ObservedPeriod], after: Sequence[ObservedPeriod]) -> list[ObservedPeriod]:
    ids = {p.id for p in before}
    starts = {p.start for p in before}
    return sorted((p for p in after if p.id not in ids and p.start not in starts), key=lambda p: p.start)


def judge_renewal(
    expected: ExpectedRenewal,
    before_periods: Sequence[ObservedPeriod],
    observed_actions: Sequence[ObservedAction],
    observed_periods: Sequence[ObservedPeriod],
    asset_after: AssetSnapshot,
) -> Verdict:
    """Verified when the order's Renewals action, a new period equal to the term and the end date show."""
    actions, bad = _order_actions(observed_actions, expected.order_id, RENEWALS)
    if bad is not None:
        return bad
    term = expected.term
    before_ids = {p.id for p in before_periods}
    matching = [
        p for p in observed_periods if p.id not in before_ids and (p.start, p.end) == (term.start, term.end)
    ]
    # A fresh period overlapping the term but not equal to it is wrong; a zero-quantity gap period
    # before the term (renewal of an expired asset) is not.
    overlapping = [
        p
        for p in _fresh(before_periods, observed_periods)
        if p.start <= term.end and (p.end is None or p.end >= term.start)
    ]
    if not matching and overlapping:
        last = overlapping[-1]
        return Mismatch(
            f"new state period {last.id} does not cover the renewal term",
            (
                _diff("AssetStatePeriod.StartDate", term.start, last.start),
                _diff("AssetStatePeriod.EndDate", term.end, last.end),
            ),
        )
    if len(matching) > 1:
        ids = ", ".join(p.id for p in matching)
        return Mismatch(
            f"{len(matching)} new state periods cover the renewal term ({ids}); expected one",
            (_diff("AssetStatePeriod count", 1, len(matching)),),
        )
    # The renewed period carries the last period's quantity (CurrentQuantity is 0 once expired).
    quantity = max(before_periods, key=lambda p: p.start).quantity if before_periods else expected.quantity
    if matching and matching[0].quantity != quantity:
        return Mismatch(
            f"new state period {matching[0].id} has another quantity",
            (_diff("AssetStatePeriod.Quantity", quantity, matching[0].quantity),),
        )
    if not actions and not matching:
        return Pending(f"no Renewals asset action for order {expected.order_id} and no new state period yet")
    if not actions:
        return Pending(
            f"new state period visible, Renewals asset action for order {expected.order_id} not yet"
        )
    if not matching:
        return Pending(f"Renewals asset action {actions[0].id} visible, new state period not yet")
    return _judge_end(expected.term.end, expected.previous_lifecycle_end, asset_after, actions[0].id)


def judge_cancellation(
    expected: ExpectedCancellation,
    before_periods: Sequence[ObservedPeriod],
    observed_actions: Sequence[ObservedAction],
    observed_periods: Sequence[ObservedPeriod],
    asset_after: AssetSnapshot,
) -> Verdict:
    """Verified when the order's Cancellations action shows, no period was added, and the end moved."""
    fresh = _fresh(before_periods, observed_periods)
    if fresh:
        return Mismatch(
            f"a cancellation must create no state period, but {fresh[0].id} appeared",
            (
                _diff(
                    "new AssetStatePeriod",
                    "none",
                    f"{fresh[0].id} {fmt(fresh[0].start)}..{fmt(fresh[0].end)}",
                ),
            ),
        )
    actions, bad = _order_actions(observed_actions, expected.order_id, CANCELLATIONS)
    if bad is not None:
        return bad
    if not actions:
        return Pending(f"no Cancellations asset action for order {expected.order_id} yet")
    action = actions[0]
    # What is cancelled is what the period holding the date carries (a future amendment may differ
    # from today's quantity); without that period, the asset's quantity and MRR are the reference.
    at = expected.effective_at
    held = next((p for p in before_periods if p.start <= at and (p.end is None or at <= p.end)), None)
    quantity_change = -held.quantity if held else expected.quantity_change
    mrr_change = -held.mrr if held else expected.mrr_change
    diffs = []
    if action.quantity_change != quantity_change:
        diffs.append(_diff("AssetAction.QuantityChange", quantity_change, action.quantity_change))
    if not money_equal(action.mrr_change, mrr_change):
        diffs.append(_diff("AssetAction.MrrChange", mrr_change, action.mrr_change))
    if diffs:
        return Mismatch(f"Cancellations asset action {action.id} has other changes", tuple(diffs))
    period_verdict = _judge_last_period(expected, before_periods, observed_periods)
    if period_verdict is not None:
        return period_verdict
    return _judge_end(expected.period_end, expected.previous_lifecycle_end, asset_after, action.id)


def _judge_last_period(
    expected: ExpectedCancellation, before: Sequence[ObservedPeriod], after: Sequence[ObservedPeriod]
) -> Pending | Mismatch | None:
    if not after:
        return Pending("no state period visible")
    last = max(after, key=lambda p: p.start)
    if last.end == expected.period_end:
        return None
    previous = {p.id: p for p in before}.get(last.id)
    if previous is not None and previous.end == last.end:
        # Salesforce has not shortened or removed this period yet.
        return Pending(f"state period {last.id} still ends {fmt(last.end)}; not shortened yet")
    return Mismatch(
        f"last state period {last.id} does not end one second before the cancellation",
        (_diff("AssetStatePeriod.EndDate", expected.period_end, last.end),),
    )


def _judge_end(
    expected_end: datetime, previous_end: datetime | None, asset_after: AssetSnapshot, action_id: str
) -> Verdict:
    observed = asset_after.lifecycle_end
    if observed == expected_end:
        return Verified(action_id)
    if observed == previous_end:
        return Pending(f"Asset.LifecycleEndDate still {fmt(observed)}; not updated yet")
    return Mismatch(
        f"asset {asset_after.id} has another lifecycle end",
        (_diff("Asset.LifecycleEndDate", expected_end, observed),),
    )
