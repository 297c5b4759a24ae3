"""Verdicts on what Salesforce shows after a renewal or a cancellation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from sfsync.lifecycle.cancellation import expected_cancellation
from sfsync.lifecycle.model import (
    CANCELLATIONS,
    RENEWALS,
    AssetSnapshot,
    ObservedAction,
    ObservedPeriod,
)
from sfsync.lifecycle.renewal import expected_renewal
from sfsync.lifecycle.terms import automatic_term, override_term, resolve
from sfsync.lifecycle.verify import (
    Difference,
    Mismatch,
    Pending,
    Verdict,
    Verified,
    judge_cancellation,
    judge_renewal,
)

from .scenario import ORDER_ID, OTHER_ORDER_ID, QUICKBOOKS, RETAIL_POS, TODAY, WORKSPACE, action, at, period

# QuickBooks Online, automatic renewal: one period before, one new period after.
QB_BEFORE = [period(1, "2025-08-10T00:00:00", "2026-08-09T23:59:59", 5, "20.83")]
QB_TERM = automatic_term(QUICKBOOKS)
QB_EXPECTED = expected_renewal(QUICKBOOKS, QB_TERM, order_id=ORDER_ID)
QB_NEW = period(2, "2026-08-10T00:00:00", "2027-08-09T23:59:59", 5, "20.83")
QB_AFTER = replace(
    QUICKBOOKS, lifecycle_end=QB_TERM.end, total_lifecycle_amount=QUICKBOOKS.total_lifecycle_amount
)
QB_ACTION = action(1, RENEWALS, "0", "0")


def judge_qb(
    actions: Sequence[ObservedAction], periods: Sequence[ObservedPeriod], asset: AssetSnapshot = QB_AFTER
) -> Verdict:
    """judge_renewal on QuickBooks with the standard before-periods."""
    return judge_renewal(QB_EXPECTED, QB_BEFORE, actions, periods, asset)


def test_quickbooks_renewal_verified() -> None:
    """Renewals action of the order, a new period equal to the term and the new end: verified."""
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, QB_NEW])
    assert verdict == Verified(QB_ACTION.id)
    assert verdict.status == "verified"


def test_nothing_visible_yet_is_pending() -> None:
    """Before assetization nothing has changed: pending, not a failure."""
    verdict = judge_qb([], QB_BEFORE, QUICKBOOKS)
    assert isinstance(verdict, Pending)
    assert "no Renewals asset action" in verdict.reason
    assert verdict.status == "pending"


def test_action_without_period_is_pending() -> None:
    """The action visible but the new period not yet: pending, saying what is missing."""
    verdict = judge_qb([QB_ACTION], QB_BEFORE, QUICKBOOKS)
    assert verdict == Pending(f"Renewals asset action {QB_ACTION.id} visible, new state period not yet")


def test_period_without_action_is_pending() -> None:
    """The new period visible but not the action: pending."""
    verdict = judge_qb([], [*QB_BEFORE, QB_NEW])
    assert isinstance(verdict, Pending)
    assert "Renewals asset action" in verdict.reason


def test_lifecycle_end_not_moved_yet_is_pending() -> None:
    """Action and period visible, the asset's end not rolled up yet: pending."""
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, QB_NEW], QUICKBOOKS)
    assert verdict == Pending("Asset.LifecycleEndDate still 2026-08-09T23:59:59Z; not updated yet")


def test_lifecycle_end_elsewhere_is_a_mismatch() -> None:
    """An end moved to another value is a mismatch with expected and observed."""
    wrong = replace(QUICKBOOKS, lifecycle_end=at("2027-08-10T23:59:59"))
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, QB_NEW], wrong)
    assert verdict == Mismatch(
        f"asset {QUICKBOOKS.id} has another lifecycle end",
        (Difference("Asset.LifecycleEndDate", "2027-08-09T23:59:59Z", "2027-08-10T23:59:59Z"),),
    )


def test_new_period_with_other_dates_is_a_mismatch() -> None:
    """A new period a day too long is reported with both dates, expected and observed."""
    long = period(2, "2026-08-10T00:00:00", "2027-08-10T23:59:59", 5, "20.83")
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, long])
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (
        Difference("AssetStatePeriod.StartDate", "2026-08-10T00:00:00Z", "2026-08-10T00:00:00Z"),
        Difference("AssetStatePeriod.EndDate", "2027-08-09T23:59:59Z", "2027-08-10T23:59:59Z"),
    )
    assert verdict.status == "mismatch"


def test_new_period_with_other_quantity_is_a_mismatch() -> None:
    """The renewed period keeps the asset's quantity; another quantity is a mismatch."""
    four = period(2, "2026-08-10T00:00:00", "2027-08-09T23:59:59", 4, "16.66")
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, four])
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (Difference("AssetStatePeriod.Quantity", "5", "4"),)


def test_two_renewal_actions_for_one_order_is_a_mismatch() -> None:
    """A duplicated renewal shows as two actions: a mismatch, never verified."""
    verdict = judge_qb([QB_ACTION, action(2, RENEWALS, "0", "0")], [*QB_BEFORE, QB_NEW])
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (Difference("AssetAction count", "1", "2"),)


def test_two_matching_periods_is_a_mismatch() -> None:
    """Two new periods covering the same term are a duplicate renewal."""
    twin = replace(QB_NEW, id=period(3, "2026-08-10T00:00:00", None, 5, "1").id)
    verdict = judge_qb([QB_ACTION], [*QB_BEFORE, QB_NEW, twin])
    assert isinstance(verdict, Mismatch)
    assert "2 new state periods" in verdict.reason


def test_wrong_category_on_the_order_is_a_mismatch() -> None:
    """An action of the renewal order with another business category is a mismatch."""
    verdict = judge_qb([action(1, "Upsells", "0", "0")], [*QB_BEFORE, QB_NEW])
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (Difference("AssetAction.CategoryEnum", "Renewals", "Upsells"),)


def test_actions_of_other_orders_do_not_count() -> None:
    """A Renewals action from another order (last year's renewal) is not this renewal."""
    verdict = judge_qb([action(9, RENEWALS, "0", "0", order_id=OTHER_ORDER_ID)], [*QB_BEFORE, QB_NEW])
    assert isinstance(verdict, Pending)


def test_milliseconds_do_not_matter() -> None:
    """Instants read back with milliseconds compare equal to the second."""
    ms = ObservedPeriod(
        QB_NEW.id,
        QB_NEW.start.replace(microsecond=250000),
        QB_TERM.end.replace(microsecond=999000),
        QB_NEW.quantity,
        QB_NEW.mrr,
    )
    assert judge_qb([QB_ACTION], [*QB_BEFORE, ms]) == Verified(QB_ACTION.id)


# Google Workspace, override today → today + 1 year, before its current end (2027-02-28).
WS_TERM = override_term(TODAY, resolve("today+1y", TODAY), today=TODAY)
WS_EXPECTED = expected_renewal(WORKSPACE, WS_TERM, order_id=ORDER_ID)
WS_BEFORE = [period(11, "2026-03-01T00:00:00", "2027-02-28T23:59:59", 20, "240.00")]
WS_NEW = period(12, "2026-11-23T00:00:00", "2027-11-22T23:59:59", 20, "240.00")
WS_AFTER = replace(WORKSPACE, lifecycle_end=at("2027-11-22T23:59:59"))


def test_workspace_override_verified_with_current_period_shortened() -> None:
    """The current period ends the second before today; the new one covers today → today + 1 year."""
    shortened = replace(WS_BEFORE[0], end=at("2026-11-22T23:59:59"))
    verdict = judge_renewal(WS_EXPECTED, WS_BEFORE, [QB_ACTION], [shortened, WS_NEW], WS_AFTER)
    assert verdict == Verified(QB_ACTION.id)


def test_workspace_override_verified_when_the_shortened_period_is_regenerated() -> None:
    """Salesforce may regenerate the shortened period under a new ID; that is not a wrong new period."""
    regenerated = period(13, "2026-03-01T00:00:00", "2026-11-22T23:59:59", 20, "240.00")
    verdict = judge_renewal(WS_EXPECTED, WS_BEFORE, [QB_ACTION], [regenerated, WS_NEW], WS_AFTER)
    assert verdict == Verified(QB_ACTION.id)


def test_renewal_after_a_gap_is_verified() -> None:
    """An expired asset (CurrentQuantity 0) renewed later gets a gap period too; the term's period verifies."""
    later = override_term(resolve("today+1m", TODAY), resolve("today+13m", TODAY), today=TODAY)
    expired = replace(QUICKBOOKS, quantity=Decimal(0), lifecycle_end=at("2026-11-22T23:59:59"))
    before = [period(21, "2025-11-23T00:00:00", "2026-11-22T23:59:59", 5, "20.83")]
    gap = period(22, "2026-11-23T00:00:00", "2026-12-22T23:59:59", 0, "0")
    new = period(23, "2026-12-23T00:00:00", "2027-12-22T23:59:59", 5, "20.83")
    expected = expected_renewal(expired, later, order_id=ORDER_ID)
    after = replace(expired, lifecycle_end=later.end)
    assert judge_renewal(expected, before, [QB_ACTION], [*before, gap, new], after) == Verified(QB_ACTION.id)
    # The gap alone (the term's period not visible yet) is not a wrong period: still pending.
    assert isinstance(judge_renewal(expected, before, [QB_ACTION], [*before, gap], expired), Pending)


# Retail POS Enterprise cancelled three months out (2027-02-23).
POS_DAY = resolve("today+3m", TODAY)
POS_EXPECTED = expected_cancellation(RETAIL_POS, POS_DAY, order_id=ORDER_ID)
POS_BEFORE = [period(31, "2026-05-23T00:00:00", "2027-05-22T23:59:59", 1, "125.00")]
POS_SHORT = replace(POS_BEFORE[0], end=at("2027-02-22T23:59:59"))
POS_AFTER = replace(RETAIL_POS, lifecycle_end=at("2027-02-22T23:59:59"))
POS_ACTION = action(32, CANCELLATIONS, "-1", "-125.00")


def judge_pos(
    actions: Sequence[ObservedAction],
    periods: Sequence[ObservedPeriod],
    asset: AssetSnapshot = POS_AFTER,
    before: Sequence[ObservedPeriod] | None = None,
) -> Verdict:
    """judge_cancellation on Retail POS Enterprise."""
    return judge_cancellation(POS_EXPECTED, POS_BEFORE if before is None else before, actions, periods, asset)


def test_retail_pos_cancellation_verified() -> None:
    """Cancellations action (-1, -MRR), no new period, the last period ends 2027-02-22T23:59:59Z."""
    assert judge_pos([POS_ACTION], [POS_SHORT]) == Verified(POS_ACTION.id)


def test_cancellation_nothing_visible_is_pending() -> None:
    """Before assetization: pending."""
    verdict = judge_pos([], POS_BEFORE, RETAIL_POS)
    assert verdict == Pending(f"no Cancellations asset action for order {POS_EXPECTED.order_id} yet")


def test_cancellation_period_not_shortened_yet_is_pending() -> None:
    """The action visible, the period still at its old end: pending."""
    verdict = judge_pos([POS_ACTION], POS_BEFORE, RETAIL_POS)
    assert isinstance(verdict, Pending)
    assert "not shortened yet" in verdict.reason


def test_cancellation_end_not_rolled_up_is_pending() -> None:
    """Period shortened but Asset.LifecycleEndDate unchanged: pending."""
    verdict = judge_pos([POS_ACTION], [POS_SHORT], RETAIL_POS)
    assert isinstance(verdict, Pending)
    assert "LifecycleEndDate" in verdict.reason


def test_cancellation_with_a_new_period_is_a_mismatch() -> None:
    """Unlike renewals, a cancellation must create no state period."""
    extra = period(33, "2027-02-23T00:00:00", "2027-05-22T23:59:59", 0, "0")
    verdict = judge_pos([POS_ACTION], [POS_SHORT, extra])
    assert isinstance(verdict, Mismatch)
    assert "must create no state period" in verdict.reason
    assert verdict.details[0].field == "new AssetStatePeriod"
    assert verdict.details[0].expected == "none"


def test_cancellation_with_other_quantity_and_mrr_change_is_a_mismatch() -> None:
    """QuantityChange and MrrChange must be minus the quantity and the MRR; both differences are listed."""
    verdict = judge_pos([action(32, CANCELLATIONS, "-2", "0")], [POS_SHORT])
    assert verdict == Mismatch(
        f"Cancellations asset action {POS_ACTION.id} has other changes",
        (
            Difference("AssetAction.QuantityChange", "-1", "-2"),
            Difference("AssetAction.MrrChange", "-125", "0"),
        ),
    )


def test_mrr_change_compares_to_the_cent() -> None:
    """-125.004 is -125.00 to the cent."""
    assert judge_pos([action(32, CANCELLATIONS, "-1", "-125.004")], [POS_SHORT]) == Verified(POS_ACTION.id)


def test_last_period_ending_elsewhere_is_a_mismatch() -> None:
    """A period shortened to the wrong second is a mismatch with both instants."""
    wrong = replace(POS_BEFORE[0], end=at("2027-02-23T23:59:59"))
    verdict = judge_pos([POS_ACTION], [wrong])
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (
        Difference("AssetStatePeriod.EndDate", "2027-02-22T23:59:59Z", "2027-02-23T23:59:59Z"),
    )


def test_cancellation_lifecycle_end_elsewhere_is_a_mismatch() -> None:
    """Asset.LifecycleEndDate moved to another value than the cancellation's end: mismatch."""
    verdict = judge_pos(
        [POS_ACTION], [POS_SHORT], replace(RETAIL_POS, lifecycle_end=at("2027-02-23T00:00:00"))
    )
    assert isinstance(verdict, Mismatch)
    assert verdict.details == (
        Difference("Asset.LifecycleEndDate", "2027-02-22T23:59:59Z", "2027-02-23T00:00:00Z"),
    )


def test_later_period_is_removed_and_regenerated_periods_are_not_new() -> None:
    """With two periods, the later one must go; while it stays, pending; a regenerated first one is fine."""
    before = [
        period(41, "2026-05-23T00:00:00", "2027-03-22T23:59:59", 1, "125.00"),
        period(42, "2027-03-23T00:00:00", "2027-05-22T23:59:59", 2, "250.00"),
    ]
    shortened = period(43, "2026-05-23T00:00:00", "2027-02-22T23:59:59", 1, "125.00")
    assert isinstance(judge_pos([POS_ACTION], [shortened, before[1]], RETAIL_POS, before), Pending)
    assert judge_pos([POS_ACTION], [shortened], POS_AFTER, before) == Verified(POS_ACTION.id)


def test_no_period_visible_is_pending() -> None:
    """A read between deletion and regeneration shows no period: pending."""
    assert isinstance(judge_pos([POS_ACTION], [], RETAIL_POS), Pending)


def test_duplicate_cancellation_actions_are_a_mismatch() -> None:
    """Two Cancellations actions for one order mean the cancellation ran twice."""
    verdict = judge_pos([POS_ACTION, action(34, CANCELLATIONS, "-1", "-125.00")], [POS_SHORT])
    assert isinstance(verdict, Mismatch)
    assert "2 Cancellations asset actions" in verdict.reason


def test_cancellation_removes_what_the_period_holding_the_date_carries() -> None:
    """After a future-dated amendment to 3, cancelling later must remove 3, not today's 1."""
    before = [
        period(51, "2026-05-23T00:00:00", "2027-01-22T23:59:59", 1, "125.00"),
        period(52, "2027-01-23T00:00:00", "2027-05-22T23:59:59", 3, "375.00"),
    ]
    shortened = replace(before[1], end=at("2027-02-22T23:59:59"))
    three = action(32, CANCELLATIONS, "-3", "-375.00")
    assert judge_pos([three], [before[0], shortened], POS_AFTER, before) == Verified(three.id)
    verdict = judge_pos([POS_ACTION], [before[0], shortened], POS_AFTER, before)
    assert isinstance(verdict, Mismatch)
    assert verdict.details[0] == Difference("AssetAction.QuantityChange", "-3", "-1")


def test_evergreen_period_holds_any_later_date() -> None:
    """An open-ended last period holds the cancellation date; it is shortened like any other."""
    before = [period(61, "2026-05-23T00:00:00", None, 1, "125.00")]
    shortened = replace(before[0], end=at("2027-02-22T23:59:59"))
    evergreen = replace(RETAIL_POS, lifecycle_end=None)
    expected = expected_cancellation(evergreen, POS_DAY, order_id=ORDER_ID)
    verdict = judge_cancellation(expected, before, [POS_ACTION], [shortened], POS_AFTER)
    assert verdict == Verified(POS_ACTION.id)
    assert isinstance(judge_cancellation(expected, before, [POS_ACTION], before, evergreen), Pending)
