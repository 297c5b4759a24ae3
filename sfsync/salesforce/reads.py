"""Batched reads the engine needs: candidates, assets, pricing state, trackers, effects, reconciliation.

Every function takes IDs in any number, cuts them into IN lists of at most ``soql.IN_BATCH`` and
returns plain models. IDs are validated for their object before any call (a wrong one is a
``ValueError``: a bug in the caller, not a Salesforce answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from sfsync import sfid
from sfsync.salesforce import soql
from sfsync.salesforce.models import (
    Asset,
    AssetActionSource,
    AssetRelationship,
    AssetStatePeriod,
    AsyncOperationTracker,
    Order,
    OrderAction,
    OrderItem,
    Quote,
    QuoteAction,
    RevenueTransactionErrorLog,
    SObject,
)
from sfsync.salesforce.query import model_pages, models
from sfsync.salesforce.soql import and_, eq, ge, in_, in_ids, in_select, le, select
from sfsync.salesforce.transport import Transport

M = TypeVar("M", bound=SObject)

#: The selection list of Part 1 ("Selection query"), plus the flag it filters on.
ASSET_FIELDS = (
    "Id",
    "Name",
    "AccountId",
    "Product2Id",
    "CurrentQuantity",
    "CurrentMrr",
    "LifecycleStartDate",
    "LifecycleEndDate",
    "RenewalTerm",
    "RenewalTermUnit",
    "DoesAutomaticallyRenew",
    "TotalLifecycleAmount",
    "HasLifecycleManagement",
)
ORDER_FIELDS = ("Id", "Status", "AccountId", "QuoteId", "OrderNumber", "CreatedDate")
ACTION_FIELDS = ("Id", "SourceAssetId", "Type", "CreatedById", "CreatedDate")
SOURCE_FIELDS = (
    "Id",
    "AssetActionId",
    "ReferenceEntityItemId",
    "AssetAction.AssetId",
    "AssetAction.CategoryEnum",
    "AssetAction.ActionDate",
    "AssetAction.QuantityChange",
    "AssetAction.MrrChange",
    "AssetAction.Amount",
)


def normalize(ids: Iterable[str], sobject: str) -> list[str]:
    """18-character forms of the IDs, validated for ``sobject``, duplicates dropped."""
    return list(dict.fromkeys(sfid.expect(record_id, sobject) for record_id in ids))


def batched_models(
    transport: Transport, ids: Sequence[str], build: Callable[[list[str]], soql.Select], model: type[M]
) -> Iterator[M]:
    """Run one query per IN batch of ``ids`` and stream the records as ``model``."""
    for chunk in soql.batched(ids):
        yield from models(transport, build(chunk), model)


def drop_bundle_children(transport: Transport, assets: Sequence[Asset]) -> list[Asset]:
    """The assets that are not the child of a bundle (``AssetRelationship``, role Bundle)."""
    ids = [asset.Id for asset in assets if asset.Id]
    children: set[str] = set()
    for chunk in soql.batched(ids):
        query = select(
            "AssetRelationship",
            ("AssetId", "RelatedAssetId"),
            and_(eq("AssetRole", "Bundle"), in_ids("RelatedAssetId", chunk, "Asset")),
        )
        children.update(
            rel.RelatedAssetId for rel in models(transport, query, AssetRelationship) if rel.RelatedAssetId
        )
    return [asset for asset in assets if asset.Id not in children]


def select_renewal_candidates(
    transport: Transport,
    window_start: datetime,
    window_end: datetime,
    *,
    account_ids: Sequence[str] = (),
    product_ids: Sequence[str] = (),
    product_families: Sequence[str] = (),
    only_auto_renew: bool = False,
) -> Iterator[Asset]:
    """Stream root lifecycle-managed assets whose LifecycleEndDate is in the window, page by page."""
    conds = [
        eq("HasLifecycleManagement", True),
        ge("LifecycleEndDate", window_start),
        le("LifecycleEndDate", window_end),
    ]
    if product_ids:
        conds.append(in_ids("Product2Id", normalize(product_ids, "Product2"), "Product2"))
    if product_families:
        conds.append(in_("Product2.Family", product_families))
    if only_auto_renew:
        conds.append(eq("DoesAutomaticallyRenew", True))
    accounts: list[list[str] | None] = list(soql.batched(normalize(account_ids, "Account"))) or [None]
    for chunk in accounts:
        where = and_(*conds, in_ids("AccountId", chunk, "Account")) if chunk else and_(*conds)
        query = select("Asset", ASSET_FIELDS, where, order_by=(("LifecycleEndDate", "ASC"), ("Id", "ASC")))
        for page in model_pages(transport, query, Asset):
            yield from drop_bundle_children(transport, page)


def read_assets(transport: Transport, ids: Iterable[str]) -> dict[str, Asset]:
    """The assets by ID (missing ones absent)."""
    wanted = normalize(ids, "Asset")
    found = batched_models(
        transport, wanted, lambda c: select("Asset", ASSET_FIELDS, in_ids("Id", c, "Asset")), Asset
    )
    return {asset.Id: asset for asset in found if asset.Id}


def asset_price_books(transport: Transport, ids: Iterable[str]) -> dict[str, str]:
    """Each asset's price book, from its latest AssetActionSource's ``PricebookEntry.Pricebook2Id``."""
    wanted = normalize(ids, "Asset")

    def build(chunk: list[str]) -> soql.Select:
        actions = select("AssetAction", ("Id",), in_ids("AssetId", chunk, "Asset"))
        return select(
            "AssetActionSource",
            (
                "Id",
                "AssetAction.AssetId",
                "PricebookEntryId",
                "PricebookEntry.Pricebook2Id",
                "TransactionDate",
            ),
            in_select("AssetActionId", actions),
            order_by=(("TransactionDate", "DESC"), ("Id", "DESC")),
        )

    out: dict[str, str] = {}
    for source in batched_models(transport, wanted, build, AssetActionSource):
        asset_id = source.AssetAction.AssetId if source.AssetAction else None
        book = source.PricebookEntry.Pricebook2Id if source.PricebookEntry else None
        if asset_id and book and asset_id not in out:
            out[asset_id] = book
    return out


def quote_calculation_status(transport: Transport, quote_ids: Iterable[str]) -> dict[str, Quote]:
    """The quotes' pricing state (``CalculationStatus``) and status, by quote ID."""
    wanted = normalize(quote_ids, "Quote")
    fields = ("Id", "Status", "CalculationStatus", "QuoteAccountId", "Pricebook2Id")
    found = batched_models(
        transport, wanted, lambda c: select("Quote", fields, in_ids("Id", c, "Quote")), Quote
    )
    return {quote.Id: quote for quote in found if quote.Id}


def read_error_logs(
    transport: Transport, *, primary_record_ids: Iterable[str] = (), request_identifiers: Iterable[str] = ()
) -> list[RevenueTransactionErrorLog]:
    """Revenue Cloud error-log rows for the records or request identifiers, newest first."""
    fields = (
        "Id",
        "Category",
        "ErrorCode",
        "ErrorMessage",
        "PrimaryRecordId",
        "RequestIdentifier",
        "CreatedDate",
    )
    order: tuple[tuple[str, Literal["ASC", "DESC"]], ...] = (("CreatedDate", "DESC"),)
    rows: dict[str, RevenueTransactionErrorLog] = {}
    primaries = list(dict.fromkeys(sfid.to18(record_id) for record_id in primary_record_ids))
    for chunk in soql.batched(primaries):
        query = select(
            "RevenueTransactionErrorLog", fields, in_ids("PrimaryRecordId", chunk, None), order_by=order
        )
        rows.update((row.Id or "", row) for row in models(transport, query, RevenueTransactionErrorLog))
    for chunk in soql.batched(list(request_identifiers)):
        query = select("RevenueTransactionErrorLog", fields, in_("RequestIdentifier", chunk), order_by=order)
        rows.update((row.Id or "", row) for row in models(transport, query, RevenueTransactionErrorLog))
    return sorted(rows.values(), key=lambda row: (row.CreatedDate is None, row.CreatedDate), reverse=True)


def read_trackers(transport: Transport, order_ids: Iterable[str]) -> dict[str, list[AsyncOperationTracker]]:
    """The orders' AssetizationAsyncJob trackers, newest first, by order ID."""
    wanted = normalize(order_ids, "Order")

    def build(chunk: list[str]) -> soql.Select:
        where = and_(eq("JobType", "AssetizationAsyncJob"), in_ids("ReferenceEntityId", chunk, "Order"))
        fields = ("Id", "JobType", "Status", "ReferenceEntityId", "CreatedDate")
        return select("AsyncOperationTracker", fields, where, order_by=(("CreatedDate", "DESC"),))

    out: dict[str, list[AsyncOperationTracker]] = {order_id: [] for order_id in wanted}
    for tracker in batched_models(transport, wanted, build, AsyncOperationTracker):
        if tracker.ReferenceEntityId in out:
            out[tracker.ReferenceEntityId].append(tracker)
    return out


def read_asset_actions_for_orders(
    transport: Transport, order_ids: Iterable[str]
) -> dict[str, list[AssetActionSource]]:
    """The AssetActionSource rows (with their AssetAction) made from each order's items, by order ID."""
    wanted = normalize(order_ids, "Order")
    out: dict[str, list[AssetActionSource]] = {order_id: [] for order_id in wanted}
    for chunk in soql.batched(wanted):
        item_order = {
            item.Id: item.OrderId
            for item in models(
                transport,
                select("OrderItem", ("Id", "OrderId"), in_ids("OrderId", chunk, "Order")),
                OrderItem,
            )
            if item.Id and item.OrderId
        }
        if not item_order:
            continue
        items = select("OrderItem", ("Id",), in_ids("OrderId", chunk, "Order"))
        query = select("AssetActionSource", SOURCE_FIELDS, in_select("ReferenceEntityItemId", items))
        for source in models(transport, query, AssetActionSource):
            order_id = item_order.get(source.ReferenceEntityItemId or "")
            if order_id in out:
                out[order_id].append(source)
    return out


def read_state_periods(transport: Transport, asset_ids: Iterable[str]) -> dict[str, list[AssetStatePeriod]]:
    """Each asset's state periods in start order, by asset ID."""
    wanted = normalize(asset_ids, "Asset")

    def build(chunk: list[str]) -> soql.Select:
        fields = ("Id", "AssetId", "StartDate", "EndDate", "Quantity", "Mrr", "Amount")
        where = in_ids("AssetId", chunk, "Asset")
        return select("AssetStatePeriod", fields, where, order_by=(("AssetId", "ASC"), ("StartDate", "ASC")))

    out: dict[str, list[AssetStatePeriod]] = {asset_id: [] for asset_id in wanted}
    for period in batched_models(transport, wanted, build, AssetStatePeriod):
        if period.AssetId in out:
            out[period.AssetId].append(period)
    return out


def read_orders(
    transport: Transport, order_ids: Iterable[str], fields: Sequence[str] = ORDER_FIELDS
) -> dict[str, Order]:
    """The orders by ID (missing ones absent)."""
    wanted = normalize(order_ids, "Order")
    found = batched_models(
        transport, wanted, lambda c: select("Order", fields, in_ids("Id", c, "Order")), Order
    )
    return {order.Id: order for order in found if order.Id}


def find_orders_for_quotes(transport: Transport, quote_ids: Iterable[str]) -> dict[str, list[Order]]:
    """Orders made from each quote (reconciliation of quote → order), by quote ID."""
    wanted = normalize(quote_ids, "Quote")
    out: dict[str, list[Order]] = {quote_id: [] for quote_id in wanted}

    def build(chunk: list[str]) -> soql.Select:
        return select("Order", ORDER_FIELDS, in_ids("QuoteId", chunk, "Quote"))

    for order in batched_models(transport, wanted, build, Order):
        if order.QuoteId in out:
            out[order.QuoteId].append(order)
    return out


def find_actions(
    transport: Transport,
    sobject: Literal["QuoteAction", "OrderAction"],
    asset_ids: Iterable[str],
    action_type: Literal["Renew", "Cancel"],
    since: datetime,
    created_by: str,
) -> list[QuoteAction] | list[OrderAction]:
    """QuoteAction/OrderAction rows the integration user made for the assets since ``since``."""
    wanted = normalize(asset_ids, "Asset")
    parent = "QuoteId" if sobject == "QuoteAction" else "OrderId"
    user = soql.Id(created_by, "User")

    def build(chunk: list[str]) -> soql.Select:
        where = and_(
            in_ids("SourceAssetId", chunk, "Asset"),
            eq("Type", action_type),
            eq("CreatedById", user),
            ge("CreatedDate", since),
        )
        return select(sobject, (*ACTION_FIELDS, parent), where, order_by=(("CreatedDate", "ASC"),))

    if sobject == "QuoteAction":
        return list(batched_models(transport, wanted, build, QuoteAction))
    return list(batched_models(transport, wanted, build, OrderAction))


def skewed(since: datetime, skew_s: float) -> datetime:
    """``since`` moved back by the allowed clock skew."""
    return since - timedelta(seconds=skew_s)
