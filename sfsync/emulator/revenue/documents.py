"""Quotes and orders the emulated org writes: headers, actions, lines, pricing and trackers.

A change of one asset (a plan) becomes one ``QuoteAction``/``OrderAction`` (Type and
``SourceAssetId``) with its lines. Lines carry dates (the org's time zone is GMT): a line starts at
00:00:00 of its start date and ends at 23:59:59 of its end date, which assetization reads back.
Pricing is asynchronous: a new quote or order is ``PriceCalculationInProgress`` for
``pricing_delay_s`` and then ``CompletedWithPricing``, and so is its ``AsyncOperationTracker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfsync.emulator.revenue.assets import AssetState
from sfsync.emulator.revenue.controls import controls
from sfsync.emulator.revenue.lifecycle import Plan
from sfsync.emulator.revenue.periods import years

if TYPE_CHECKING:
    from sfsync.emulator.org import Org

#: CalculationStatus values after which a quote may become an order.
PRICED = frozenset({"CompletedWithTax", "CompletedWithPricing", "CompletedWithoutPricing"})

#: AsyncOperationTracker.JobType of the asynchronous part of each initiate action.
JOB_TYPES = {"Renew": "PearRenewAssets", "Cancel": "PearCancelAssets", "Amend": "PearAmendAssets"}
#: RevenueTransactionErrorLog.Category of a failure in that asynchronous part.
ERROR_CATEGORIES = {"Renew": "InitiateRenewal", "Cancel": "InitiateCancel", "Amend": "InitiateAmendment"}
_TITLES = {"Renew": "Renewal", "Cancel": "Cancellation", "Amend": "Amendment"}


@dataclass(frozen=True)
class Change:
    """One asset's planned change inside a quote or order."""

    asset: AssetState
    action_type: str  # Renew | Cancel | Amend
    plan: Plan


def _line_fields(change: Change, index: int) -> dict[str, Any]:
    line = change.plan.lines[index]
    asset = change.asset.record
    return {
        "Product2Id": asset["Product2Id"],
        "PricebookEntryId": change.asset.entry_id,
        "Quantity": line.quantity,
        "StartQuantity": line.start_quantity,
        "EndQuantity": line.start_quantity + line.quantity,
        "UnitPrice": change.asset.unit_price,
        "ListPrice": change.asset.unit_price,
        "TotalPrice": line.amount,
        "SubscriptionTerm": round(years(line.start, line.end) * 12, 4),
        "DoesAutomaticallyRenew": asset["DoesAutomaticallyRenew"],
    }


def create_document(
    org: Org, *, kind: str, output: str, account_id: str, pricebook_id: str | None, changes: list[Change]
) -> tuple[str, str]:
    """Write a quote (``output`` Quote) or a Draft order with its lines; returns (record ID, tracker ID).

    Call inside a store transaction: pricing completion is scheduled on commit.
    """
    store, now = org.store, org.clock.now()
    start = min(line.start for change in changes for line in change.plan.lines)
    failing = [c.asset.id for c in changes if c.asset.id in controls(org).fail_pricing_assets]
    priced = org.config.pricing_delay_s <= 0 and not failing
    status = "CompletedWithPricing" if priced else "PriceCalculationInProgress"
    title = f"{_TITLES[kind]} for {changes[0].asset.record['Name']}"
    if output == "Quote":
        header = store.insert(
            "Quote",
            {"Name": title, "QuoteAccountId": account_id, "Pricebook2Id": pricebook_id, "Status": "Draft",
             "CalculationStatus": status, "OriginalActionType": kind, "StartDate": start.date()},
        )  # fmt: skip
    else:
        header = store.insert(
            "Order",
            {"Name": title, "AccountId": account_id, "Pricebook2Id": pricebook_id, "Status": "Draft",
             "EffectiveDate": start.date(), "CalculationStatus": status, "OriginalActionType": kind},
        )  # fmt: skip
        store.insert("AppUsageAssignment", {"RecordId": header, "AppUsageType": "RevenueLifecycleManagement"})
    for change in changes:
        if output == "Quote":
            action = store.insert(
                "QuoteAction",
                {"QuoteId": header, "SourceAssetId": change.asset.id, "Type": change.action_type},
            )
        else:
            action = store.insert(
                "OrderAction",
                {"OrderId": header, "SourceAssetId": change.asset.id, "Type": change.action_type},
            )
        for index, line in enumerate(change.plan.lines):
            fields = _line_fields(change, index)
            if output == "Quote":
                fields.update(
                    QuoteId=header, QuoteActionId=action, StartDate=line.start.date(), EndDate=line.end.date(),
                    SellingModelType="TermDefined",
                )  # fmt: skip
                store.insert("QuoteLineItem", fields)
            else:
                fields.update(
                    OrderId=header, OrderActionId=action, ServiceDate=line.start.date(), EndDate=line.end.date(),
                    ServiceDateTime=line.start, EndDateTime=line.end,
                )  # fmt: skip
                store.insert("OrderItem", fields)
    tracker = store.insert(
        "AsyncOperationTracker",
        {"JobType": JOB_TYPES[kind], "Status": "Completed" if priced else "InProgress",
         "ReferenceEntityId": header, "StartedAt": now, "FinishedAt": now if priced else None},
    )  # fmt: skip
    if failing:
        org.background.call_later(
            org.config.pricing_delay_s, lambda: _fail_pricing(org, kind, output, header, tracker, failing)
        )
    elif not priced:
        org.background.call_later(
            org.config.pricing_delay_s, lambda: _finish_pricing(org, output, header, tracker)
        )
    return header, tracker


def _finish_pricing(org: Org, sobject: str, record_id: str, tracker_id: str) -> None:
    with org.store.transaction():
        org.store.update(sobject, record_id, {"CalculationStatus": "CompletedWithPricing"}, triggers=False)
        org.store.update(
            "AsyncOperationTracker", tracker_id, {"Status": "Completed", "FinishedAt": org.clock.now()}
        )


def _fail_pricing(
    org: Org, kind: str, sobject: str, record_id: str, tracker_id: str, assets: list[str]
) -> None:
    """The asynchronous part failed: PriceCalculationFailed, tracker Failure, one error-log row."""
    with org.store.transaction():
        org.store.update(sobject, record_id, {"CalculationStatus": "PriceCalculationFailed"}, triggers=False)
        org.store.update(
            "AsyncOperationTracker", tracker_id, {"Status": "Failure", "FinishedAt": org.clock.now()}
        )
        org.store.insert(
            "RevenueTransactionErrorLog",
            {"Category": ERROR_CATEGORIES[kind], "ErrorCode": "INVALID_INPUT",
             "ErrorMessage": f"{','.join(assets)}: We couldn't calculate prices for the asset.",
             "PrimaryRecordId": record_id, "RelatedRecordId": assets[0], "RequestIdentifier": tracker_id[:15],
             "AsyncOperationTrackerId": tracker_id, "Severity": "Error"},
        )  # fmt: skip


def line_start(at: datetime) -> datetime:
    """A line's start instant from an input datetime: 00:00:00 of its UTC date."""
    return at.replace(hour=0, minute=0, second=0, microsecond=0)
