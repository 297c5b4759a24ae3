"""Cancellation rules: is a date acceptable for an asset, what line the quote must carry, and what
effects a successful cancellation must leave (salesforce-api.md Part 1, "Cancellation").

A cancellation takes effect at the cancellation date's 00:00:00 UTC. It creates no new
``AssetStatePeriod``: the period running at that instant is shortened to end one second before it,
later periods disappear, and ``Asset.LifecycleEndDate`` becomes that end. The ``AssetAction``
(business category ``Cancellations``) carries ``QuantityChange = −quantity`` and
``MrrChange = −MRR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sfsync.errors import InputError
from sfsync.lifecycle.model import ONE_SECOND, AssetSnapshot, day_start, wire_datetime


@dataclass(frozen=True, slots=True)
class CancellationLine:
    """The quote/order line a cancellation must produce: ``EndQuantity = StartQuantity + Quantity = 0``."""

    asset_id: str
    start_quantity: Decimal
    quantity: Decimal
    end_quantity: Decimal


@dataclass(frozen=True, slots=True)
class ExpectedCancellation:
    """What Salesforce must show once the cancellation of one asset is assetized."""

    asset_id: str
    #: The instant the cancellation takes effect (the cancellation date at 00:00:00Z).
    effective_at: datetime
    quantity_change: Decimal
    mrr_change: Decimal
    #: The end of the last period, and the asset's new ``LifecycleEndDate``: ``effective_at − 1 s``.
    period_end: datetime
    #: The asset's ``LifecycleEndDate`` before the change (tells "not visible yet" from "wrong").
    previous_lifecycle_end: datetime | None
    #: Only asset actions whose sources belong to this order count.
    order_id: str


def cancel_start_date(cancellation_date: date) -> str:
    """The ``cancelStartDate`` input of ``initiateCancellation`` for a date."""
    return wire_datetime(cancellation_date)


def validate_cancellation(asset: AssetSnapshot, cancellation_date: date, *, today: date) -> None:
    """Raise InputError (naming the asset) unless the asset can be cancelled on that date."""
    problem = cancellation_problem(asset, cancellation_date, today=today)
    if problem is not None:
        msg = f"asset {asset.id}: {problem}"
        raise InputError(msg)


def cancellation_problem(asset: AssetSnapshot, cancellation_date: date, *, today: date) -> str | None:
    """Why the asset cannot be cancelled on that date, or None when it can."""
    if asset.is_cancelled:
        return "already cancelled; a cancelled asset accepts no further change"
    if asset.quantity <= 0:
        return f"current quantity is {asset.quantity}; there is nothing to cancel"
    if cancellation_date < today:
        return (
            f"cancellation date {cancellation_date.isoformat()} is in the past (today is {today.isoformat()})"
        )
    effective = day_start(cancellation_date)
    if asset.lifecycle_end is not None and effective > asset.lifecycle_end:
        return (
            f"cancellation date {cancellation_date.isoformat()} is after the asset's lifecycle end "
            f"{asset.lifecycle_end.isoformat()}"
        )
    if asset.lifecycle_start is not None and effective <= asset.lifecycle_start:
        return (
            f"cancellation date {cancellation_date.isoformat()} is not after the asset's lifecycle start "
            f"{asset.lifecycle_start.isoformat()}"
        )
    return None


def expected_line(asset: AssetSnapshot) -> CancellationLine:
    """The cancellation line: quantity minus the asset's current quantity, end quantity 0."""
    return CancellationLine(
        asset_id=asset.id,
        start_quantity=asset.quantity,
        quantity=-asset.quantity,
        end_quantity=asset.quantity - asset.quantity,
    )


def expected_cancellation(
    asset: AssetSnapshot, cancellation_date: date, *, order_id: str
) -> ExpectedCancellation:
    """The effects a cancellation of ``asset`` on ``cancellation_date`` must produce."""
    effective = day_start(cancellation_date)
    return ExpectedCancellation(
        asset_id=asset.id,
        effective_at=effective,
        quantity_change=-asset.quantity,
        mrr_change=-asset.mrr,
        period_end=effective - ONE_SECOND,
        previous_lifecycle_end=asset.lifecycle_end,
        order_id=order_id,
    )
