"""Asynchronous assetization of an activated order: the lifecycle effects, tracker and error log.

For each ``OrderAction`` of the order with a source asset, the change is planned again from the
order's lines (their dates and quantity) over the asset's current periods, and applied: one
``AssetAction`` (``ActionDate`` = activation time), one ``AssetActionSource`` per order item, the
state-period edit, and the Asset rollups. All of an order's effects commit together or not at all;
a failure marks the tracker ``Failure`` and writes a ``RevenueTransactionErrorLog`` (OrderToAsset).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.revenue.assets import num, periods_of
from sfsync.emulator.revenue.controls import controls
from sfsync.emulator.revenue.lifecycle import Plan, plan_amendment, plan_cancellation, plan_renewal
from sfsync.emulator.revenue.periods import LifecycleRuleError, rollup

if TYPE_CHECKING:
    from sfsync.emulator.org import Org
    from sfsync.emulator.store import Store

log = structlog.get_logger(__name__)

#: What planning and writing read of an order item.
_ITEM_FIELDS = ("Id", "PricebookEntryId", "Quantity", "UnitPrice", "ListPrice", "TotalPrice", "ServiceDateTime",
                "EndDateTime")  # fmt: skip
#: What planning and writing read of an asset.
_ASSET_FIELDS = ("Id", "RenewalTerm", "RenewalTermUnit", "TotalLifecycleAmount")
_ACTION_TYPES = {"Renewals": "Change", "Upsells": "Change", "Downsells": "Change", "Cancellations": "Cancel"}


class AssetizationError(Exception):
    """The order cannot be assetized; ``code`` and message go to the error log."""

    def __init__(self, message: str, code: str = "INVALID_INPUT") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def assetize(org: Org, order_id: str, tracker_id: str) -> None:
    """Apply an activated order's effects (runs on the background thread)."""
    store = org.store
    store.update("AsyncOperationTracker", tracker_id, {"Status": "InProgress"})
    try:
        knobs = controls(org)
        if knobs.fails(order_id):
            raise AssetizationError(knobs.failure_message, knobs.failure_code)  # noqa: TRY301 - one handler
        with store.transaction():
            _apply(org, order_id)
            store.update(
                "AsyncOperationTracker", tracker_id, {"Status": "Completed", "FinishedAt": org.clock.now()}
            )
    except (AssetizationError, LifecycleRuleError, RecordError, ApiError) as exc:
        code = getattr(exc, "code", None) or getattr(exc, "status_code", None) or "INVALID_INPUT"
        message = getattr(exc, "message", None) or str(exc)
        with store.transaction():
            store.update(
                "AsyncOperationTracker", tracker_id, {"Status": "Failure", "FinishedAt": org.clock.now()}
            )
            store.insert(
                "RevenueTransactionErrorLog",
                {"Category": "OrderToAsset", "ErrorCode": str(code), "ErrorMessage": str(message),
                 "PrimaryRecordId": order_id, "RequestIdentifier": tracker_id[:15],
                 "AsyncOperationTrackerId": tracker_id, "Severity": "Error"},
            )  # fmt: skip
        log.info("emulator_assetization_failed", order_id=order_id, error_code=str(code))
        return
    log.info("emulator_assetization_completed", order_id=order_id)


def _apply(org: Org, order_id: str) -> None:
    store = org.store
    order = store.get("Order", order_id, fields=("ActivatedDate",))
    if order is None:
        msg = f"{order_id}: The order doesn't exist."
        raise AssetizationError(msg, "INVALID_CROSS_REFERENCE_KEY")
    activated = order["ActivatedDate"] if isinstance(order["ActivatedDate"], datetime) else org.clock.now()
    for action in store.select("OrderAction", ("Id", "SourceAssetId", "Type"), OrderId=order_id):
        asset_id = action["SourceAssetId"]
        items = store.select("OrderItem", _ITEM_FIELDS, OrderActionId=action["Id"])
        if asset_id is None or not items:
            continue  # new sales (Add) are not assetized by this emulator
        asset = store.get("Asset", str(asset_id), fields=_ASSET_FIELDS)
        if asset is None:
            msg = f"{asset_id}: The asset doesn't exist."
            raise AssetizationError(msg, "INVALID_CROSS_REFERENCE_KEY")
        plan = _plan(store, str(action["Type"]), asset, items)
        _write(org, asset, plan, items, activated)


def _plan(store: Store, kind: str, asset: dict[str, Any], items: list[dict[str, Any]]) -> Plan:
    asset_id = str(asset["Id"])
    if store.exists("AssetAction", AssetId=asset_id, CategoryEnum="Cancellations"):
        msg = f"{asset_id}: The asset is canceled and can't be changed."
        raise AssetizationError(msg, "INVALID_INPUT")
    periods = periods_of(store, asset_id)
    main = max(items, key=lambda item: num(item["Quantity"])) if kind == "Renew" else items[0]
    start, end = main["ServiceDateTime"], main["EndDateTime"]
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        msg = f"{main['Id']}: The order product has no dates."
        raise AssetizationError(msg, "REQUIRED_FIELD_MISSING")
    price = num(main["UnitPrice"])
    if kind == "Renew":
        term, unit = asset["RenewalTerm"], asset["RenewalTermUnit"]
        return plan_renewal(periods, now=start, term=term, unit=unit, unit_price=price, start=start, end=end)
    if kind == "Cancel":
        return plan_cancellation(periods, at=start, unit_price=price)
    if kind == "Amend":
        return plan_amendment(
            periods, now=start, at=start, quantity_change=num(main["Quantity"]), unit_price=price
        )
    msg = f"{asset_id}: Order action type {kind} can't be assetized."
    raise AssetizationError(msg, "INVALID_INPUT")


def _write(org: Org, asset: dict[str, Any], plan: Plan, items: list[dict[str, Any]], at: datetime) -> None:
    store, asset_id = org.store, str(asset["Id"])
    for period_id, end in plan.edit.new_ends.items():
        store.update("AssetStatePeriod", period_id, {"EndDate": end})
    for period_id in plan.edit.deleted:
        store.delete("AssetStatePeriod", period_id)
    for period in plan.edit.created:
        store.insert(
            "AssetStatePeriod",
            {"AssetId": asset_id, "StartDate": period.start, "EndDate": period.end, "Quantity": period.quantity,
             "Mrr": period.mrr, "Amount": 0.0},
        )  # fmt: skip
    action_id = store.insert(
        "AssetAction",
        {"AssetId": asset_id, "CategoryEnum": plan.category, "Type": _ACTION_TYPES[plan.category],
         "ActionDate": at, "QuantityChange": plan.quantity_change, "MrrChange": plan.mrr_change,
         "Amount": plan.amount},
    )  # fmt: skip
    for item in items:
        store.insert(
            "AssetActionSource",
            {"AssetActionId": action_id, "ReferenceEntityItemId": item["Id"],
             "PricebookEntryId": item["PricebookEntryId"], "TransactionDate": at,
             "StartDate": item["ServiceDateTime"], "EndDate": item["EndDateTime"], "Quantity": item["Quantity"],
             "ProductAmount": item["TotalPrice"], "UnitPrice": item["UnitPrice"], "ListPrice": item["ListPrice"]},
        )  # fmt: skip
    roll = rollup(periods_of(store, asset_id), org.clock.now())
    store.update(
        "Asset",
        asset_id,
        {"LifecycleStartDate": roll.lifecycle_start, "LifecycleEndDate": roll.lifecycle_end,
         "CurrentLifecycleEndDate": roll.current_end, "CurrentQuantity": roll.current_quantity,
         "CurrentMrr": roll.current_mrr,
         "TotalLifecycleAmount": round(num(asset["TotalLifecycleAmount"]) + plan.amount, 2)},
    )  # fmt: skip
