"""Client records → the lifecycle rules' plain records (the engine's only translation layer)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sfsync.lifecycle.model import CANCELLATIONS, AssetSnapshot, ObservedAction, ObservedPeriod
from sfsync.salesforce.models import Asset, AssetActionSource, AssetStatePeriod

_ZERO = Decimal(0)


def snapshot(asset: Asset, *, cancelled: bool = False) -> AssetSnapshot:
    """The lifecycle view of an Asset record."""
    return AssetSnapshot(
        id=asset.Id or "",
        quantity=asset.CurrentQuantity if asset.CurrentQuantity is not None else _ZERO,
        mrr=asset.CurrentMrr if asset.CurrentMrr is not None else _ZERO,
        lifecycle_start=asset.LifecycleStartDate,
        lifecycle_end=asset.LifecycleEndDate,
        renewal_term=asset.RenewalTerm,
        renewal_term_unit=asset.RenewalTermUnit,
        total_lifecycle_amount=asset.TotalLifecycleAmount,
        is_cancelled=cancelled,
    )


def periods(rows: Iterable[AssetStatePeriod]) -> list[ObservedPeriod]:
    """State periods as the rules see them (rows without a start are skipped: they cannot be judged)."""
    return [
        ObservedPeriod(
            id=row.Id or "",
            start=row.StartDate,
            end=row.EndDate,
            quantity=row.Quantity if row.Quantity is not None else _ZERO,
            mrr=row.Mrr if row.Mrr is not None else _ZERO,
        )
        for row in rows
        if row.StartDate is not None
    ]


def actions_by_asset(order_id: str, sources: Sequence[AssetActionSource]) -> dict[str, list[ObservedAction]]:
    """The asset actions reached through one order's items, grouped by asset (one per action)."""
    out: dict[str, dict[str, ObservedAction]] = {}
    for source in sources:
        action = source.AssetAction
        if action is None or action.AssetId is None or action.ActionDate is None:
            continue
        action_id = source.AssetActionId or action.Id or ""
        out.setdefault(action.AssetId, {})[action_id] = ObservedAction(
            id=action_id,
            category=action.CategoryEnum or "",
            action_date=action.ActionDate,
            quantity_change=action.QuantityChange if action.QuantityChange is not None else _ZERO,
            mrr_change=action.MrrChange if action.MrrChange is not None else _ZERO,
            amount=action.Amount,
            order_id=order_id,
        )
    return {asset_id: list(actions.values()) for asset_id, actions in out.items()}


def is_cancelled_category(category: str | None) -> bool:
    """Whether an asset action's business category makes the asset terminal."""
    return category == CANCELLATIONS
