"""Quote → order, shipping address, activation: batched, one outcome per quote or order.

Orders made from quotes come without a shipping address on live orgs, and activation then fails
with ``FAILED_ACTIVATION``; :func:`fill_shipping_addresses` copies each account's address onto the
orders that lack one (sObject Collections PATCH, safe to repeat) before :func:`activate_orders`
sets ``Status = Activated`` (a PATCH that changes money-bearing state: a lost answer is uncertain).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sfsync import errors
from sfsync.salesforce import collections, reads
from sfsync.salesforce.actions import Actions
from sfsync.salesforce.models import SHIPPING_FIELDS, Account, Order
from sfsync.salesforce.outcomes import Done, Failed, Outcome, Uncertain, from_error
from sfsync.salesforce.query import models
from sfsync.salesforce.soql import batched, in_ids, select
from sfsync.salesforce.transport import Transport

QuoteToOrderAction = Literal["createOrderFromQuote", "createOrdersFromQuote"]


@dataclass(frozen=True)
class OrderRef:
    """The order made from a quote."""

    order_id: str
    order_number: str | None = None


def create_orders_from_quotes(
    actions: Actions, quote_ids: Iterable[str], action: QuoteToOrderAction
) -> dict[str, Outcome[OrderRef]]:
    """Create one order per quote with the org's quote-to-order action; per quote ID the order."""
    wanted = reads.normalize(quote_ids, "Quote")
    if action == "createOrderFromQuote":
        inputs: list[dict[str, object]] = [{"quoteRecordId": quote} for quote in wanted]
    else:
        inputs = [{"quoteId": quote, "orderCreationMethod": "CreateSingleOrder"} for quote in wanted]
    results: dict[str, Outcome[OrderRef]] = {}
    for quote, outcome in zip(wanted, actions.invoke(action, inputs, creating=True), strict=True):
        if not isinstance(outcome, Done):
            results[quote] = outcome
            continue
        values = outcome.value
        order_id = values.get("orderId")
        ids = values.get("orderIds")
        if not isinstance(order_id, str) and isinstance(ids, list) and ids and isinstance(ids[0], str):
            order_id = ids[0]
        number = values.get("orderNumber")
        results[quote] = (
            Done(OrderRef(order_id, number if isinstance(number, str) else None))
            if isinstance(order_id, str) and order_id
            else Uncertain(f"{action} succeeded without an order ID")
        )
    return results


def _has_address(record: Order | Account) -> bool:
    return any(getattr(record, field) for field in SHIPPING_FIELDS)


def fill_shipping_addresses(transport: Transport, order_ids: Iterable[str]) -> dict[str, Outcome[bool]]:
    """Copy the account's shipping address onto orders lacking one; Done(True) if copied, (False) if present."""
    wanted = reads.normalize(order_ids, "Order")
    results: dict[str, Outcome[bool]] = {}
    try:
        orders = reads.read_orders(transport, wanted, ("Id", "AccountId", *SHIPPING_FIELDS))
        bare = [order for order in orders.values() if not _has_address(order)]
        account_ids = list(dict.fromkeys(order.AccountId for order in bare if order.AccountId))
        accounts: dict[str, Account] = {}
        for chunk in batched(account_ids):
            query = select("Account", ("Id", *SHIPPING_FIELDS), in_ids("Id", chunk, "Account"))
            accounts.update((account.Id or "", account) for account in models(transport, query, Account))
    except errors.SalesforceError as exc:
        return dict.fromkeys(wanted, from_error(exc))
    writes: list[collections.RecordWrite] = []
    for order_id in wanted:
        order = orders.get(order_id)
        if order is None:
            results[order_id] = Failed("NOT_FOUND", f"order {order_id} does not exist")
            continue
        if _has_address(order):
            results[order_id] = Done(False)
            continue
        account = accounts.get(order.AccountId or "")
        if account is None or not _has_address(account):
            results[order_id] = Failed(
                "NO_SHIPPING_ADDRESS",
                f"account {order.AccountId} of order {order_id} has no shipping address to copy; "
                "activation would fail with FAILED_ACTIVATION",
            )
            continue
        values = {field: getattr(account, field) for field in SHIPPING_FIELDS if getattr(account, field)}
        writes.append(collections.RecordWrite("Order", values, order_id))
    outcomes = collections.write(transport, "PATCH", writes, creating=False)
    for write, outcome in zip(writes, outcomes, strict=True):
        assert write.id is not None  # every write above is an update
        results[write.id] = Done(True) if isinstance(outcome, Done) else outcome
    return results


def activate_orders(
    transport: Transport, order_ids: Iterable[str], *, reconcile: bool = False
) -> dict[str, Outcome[str]]:
    """Set ``Status = Activated``; with ``reconcile`` read Status first and never re-activate."""
    wanted = reads.normalize(order_ids, "Order")
    results: dict[str, Outcome[str]] = {}
    todo = wanted
    if reconcile:
        try:
            status = reads.read_orders(transport, wanted, ("Id", "Status"))
        except errors.SalesforceError as exc:
            return dict.fromkeys(wanted, from_error(exc))
        todo = []
        for order_id in wanted:
            order = status.get(order_id)
            if order is None:
                results[order_id] = Failed("NOT_FOUND", f"order {order_id} does not exist")
            elif order.Status == "Activated":
                results[order_id] = Done(order_id)
            else:
                todo.append(order_id)
    writes = [collections.RecordWrite("Order", {"Status": "Activated"}, order_id) for order_id in todo]
    for order_id, outcome in zip(
        todo, collections.write(transport, "PATCH", writes, creating=True), strict=True
    ):
        results[order_id] = Done(order_id) if isinstance(outcome, Done) else outcome
    return results
