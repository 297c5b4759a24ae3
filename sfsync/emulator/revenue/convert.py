"""Quote → order: ``createOrderFromQuote`` (every version) and ``createOrdersFromQuote`` (v65+).

Both create one Draft order synchronously (the seed's *Create Single Order*): the quote's actions
become ``OrderAction`` rows, its lines ``OrderItem`` rows, plus an ``AppUsageAssignment``
(Revenue Lifecycle Management). As on live orgs, the account's shipping address is **not** copied.
The quote needs ``QuoteAccountId`` and finished pricing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sfsync import sfid
from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.org import ActionContext, ActionOutcome
from sfsync.emulator.revenue.documents import PRICED
from sfsync.emulator.revenue.inputs import ElementError, value

#: What an order reads of its quote.
_QUOTE_FIELDS = (
    "Name",
    "QuoteAccountId",
    "Pricebook2Id",
    "CalculationStatus",
    "OriginalActionType",
    "StartDate",
)
#: What an order item copies from a quote line.
_LINE_FIELDS = ("Id", "Product2Id", "PricebookEntryId", "QuoteActionId", "Quantity", "StartQuantity", "EndQuantity",
                "StartDate", "EndDate", "UnitPrice", "ListPrice", "TotalPrice", "SubscriptionTerm",
                "DoesAutomaticallyRenew")  # fmt: skip
NOT_ENABLED = (
    "Advanced Order Creation From Quote isn't turned on for this org. Turn it on in Setup → Revenue Settings, "
    "or use createOrderFromQuote."
)


def order_from_quote(ctx: ActionContext, quote_ref: object, key: str) -> tuple[str, str]:
    """Create the order of a quote; returns (order ID, order number). Call inside a transaction."""
    store = ctx.org.store
    if quote_ref is None:
        raise ElementError([("REQUIRED_FIELD_MISSING", f"Specify a value for {key}, and try again.", [])])
    try:
        quote_id = sfid.expect(str(quote_ref), "Quote")
    except sfid.InvalidIdError as exc:
        raise ElementError([("INVALID_ID_FIELD", f"{quote_ref}: The quote ID isn't valid.", [])]) from exc
    quote = store.get("Quote", quote_id, fields=_QUOTE_FIELDS)
    if quote is None:
        raise ElementError([("INVALID_ID_FIELD", f"{quote_id}: The quote doesn't exist.", [])])
    if quote["QuoteAccountId"] is None:
        raise ElementError([("REQUIRED_FIELD_MISSING", "Select an account.", [])])
    if quote["CalculationStatus"] not in PRICED:
        msg = f"The quote isn't ready to be ordered: its pricing status is {quote['CalculationStatus']}."
        raise ElementError([("INVALID_STATUS", msg, [quote_id])])
    lines = store.select("QuoteLineItem", _LINE_FIELDS, QuoteId=quote_id)
    starts = [line["StartDate"] for line in lines if isinstance(line["StartDate"], date)]
    effective = min(starts) if starts else quote["StartDate"] or ctx.now.date()
    order_id = store.insert(
        "Order",
        {"Name": quote["Name"], "AccountId": quote["QuoteAccountId"], "QuoteId": quote_id,
         "Pricebook2Id": quote["Pricebook2Id"], "Status": "Draft", "EffectiveDate": effective,
         "OriginalActionType": quote["OriginalActionType"], "CalculationStatus": "CompletedWithPricing"},
    )  # fmt: skip
    store.insert("AppUsageAssignment", {"RecordId": order_id, "AppUsageType": "RevenueLifecycleManagement"})
    actions: dict[object, str] = {}
    for action in store.select("QuoteAction", ("Id", "SourceAssetId", "Type"), QuoteId=quote_id):
        actions[action["Id"]] = store.insert(
            "OrderAction",
            {"OrderId": order_id, "SourceAssetId": action["SourceAssetId"], "Type": action["Type"]},
        )
    for line in lines:
        begin = line["StartDate"] if isinstance(line["StartDate"], date) else None
        end = line["EndDate"] if isinstance(line["EndDate"], date) else None
        store.insert(
            "OrderItem",
            {"OrderId": order_id, "QuoteLineItemId": line["Id"], "Product2Id": line["Product2Id"],
             "PricebookEntryId": line["PricebookEntryId"], "OrderActionId": actions.get(line["QuoteActionId"]),
             "Quantity": line["Quantity"], "StartQuantity": line["StartQuantity"],
             "EndQuantity": line["EndQuantity"], "ServiceDate": begin, "EndDate": end,
             "ServiceDateTime": datetime.combine(begin, time(0, 0), UTC) if begin else None,
             "EndDateTime": datetime.combine(end, time(23, 59, 59), UTC) if end else None,
             "UnitPrice": line["UnitPrice"] or 0.0, "ListPrice": line["ListPrice"], "TotalPrice": line["TotalPrice"],
             "SubscriptionTerm": line["SubscriptionTerm"], "DoesAutomaticallyRenew": line["DoesAutomaticallyRenew"]},
        )  # fmt: skip
    order = store.get("Order", order_id, fields=("OrderNumber",))
    return order_id, str(order["OrderNumber"]) if order else ""


def _each(ctx: ActionContext, inputs: list[dict[str, Any]], one: Any) -> list[ActionOutcome]:
    outcomes = []
    for item in inputs:
        try:
            with ctx.org.store.transaction():
                outcomes.append(ActionOutcome(one(item)))
        except ElementError as exc:
            outcomes.append(ActionOutcome(None, exc.items))
        except (RecordError, ApiError) as exc:
            code = exc.status_code if isinstance(exc, RecordError) else exc.error_code
            outcomes.append(ActionOutcome(None, [{"statusCode": code, "message": exc.message, "fields": []}]))
    return outcomes


class CreateOrderFromQuote:
    """``createOrderFromQuote``: input ``quoteRecordId``; outputs ``orderId``, ``orderNumber``."""

    name = "createOrderFromQuote"
    min_version = 60.0

    def invoke(self, ctx: ActionContext, inputs: list[dict[str, Any]]) -> list[ActionOutcome]:
        """One order per input."""

        def one(item: dict[str, Any]) -> dict[str, Any]:
            order_id, number = order_from_quote(ctx, value(item, "quoteRecordId"), "quoteRecordId")
            return {"orderId": order_id, "orderNumber": number}

        return _each(ctx, inputs, one)


class CreateOrdersFromQuote:
    """``createOrdersFromQuote`` (v65+): ``quoteId``, ``orderCreationMethod`` CreateSingleOrder."""

    name = "createOrdersFromQuote"
    min_version = 65.0

    def invoke(self, ctx: ActionContext, inputs: list[dict[str, Any]]) -> list[ActionOutcome]:
        """One order per input; every element fails when the org setting is off."""

        def one(item: dict[str, Any]) -> dict[str, Any]:
            if not ctx.org.config.advanced_order_creation:
                raise ElementError([("INVALID_OPERATION", NOT_ENABLED, [])])
            method = value(item, "orderCreationMethod") or "CreateSingleOrder"
            if method != "CreateSingleOrder":
                msg = f"orderCreationMethod {method} isn't supported by this org; use CreateSingleOrder."
                raise ElementError([("INVALID_INPUT", msg, [])])
            order_id, _ = order_from_quote(ctx, value(item, "quoteId"), "quoteId")
            return {"orderIds": [order_id], "requestId": None, "statusUrl": None}

        return _each(ctx, inputs, one)
