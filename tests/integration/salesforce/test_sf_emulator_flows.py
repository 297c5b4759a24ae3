"""Renewal and cancellation end to end on the emulator, with lock errors, lost answers and batching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sf_emulator_helpers import client_for, wait_for

from sfsync.emulator.config import EmulatorConfig, FaultConfig, FaultRule
from sfsync.emulator.revenue.controls import controls
from sfsync.salesforce import CancellationRequest, Done, RenewalRequest, Term, Uncertain
from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.models import PRICING_DONE, Asset
from sfsync.salesforce.orders import OrderRef
from sfsync.salesforce.soql import eq, select


def _asset(client: SalesforceClient, name: str) -> Asset:
    rows = [
        msgspec.convert(row, Asset)
        for row in client.query(select("Asset", ("Id", "Name", "AccountId"), eq("Name", name)))
    ]
    assert len(rows) == 1, f"expected one asset named {name!r}"
    return rows[0]


def _today(handle: Any) -> datetime:
    return handle.org.clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _priced(client: SalesforceClient, quote_id: str) -> str | None:
    status = client.quote_calculation_status([quote_id])[quote_id].CalculationStatus
    return status if status in PRICING_DONE else None


def _assetized(client: SalesforceClient, order_id: str) -> str | None:
    trackers = client.read_trackers([order_id])[order_id]
    return trackers[0].Status if trackers and trackers[0].Status in {"Completed", "Failure"} else None


def _order_for(client: SalesforceClient, quote_id: str) -> str:
    outcome = client.create_orders_from_quotes([quote_id])[quote_id]
    assert isinstance(outcome, Done), outcome
    assert isinstance(outcome.value, OrderRef)
    return outcome.value.order_id


def test_renewal_end_to_end(emulator: Any) -> None:
    """Override renewal → priced quote → order → shipping address → activation → Renewals action + new period."""
    client = client_for(emulator)
    asset = _asset(client, "Google Workspace")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    periods_before = len(client.read_state_periods([asset.Id])[asset.Id])
    started = emulator.org.clock.now()
    today = _today(emulator)
    term = Term(today, today.replace(year=today.year + 1))
    renewed = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book, "Quote", term)])[
        asset.Id
    ]
    assert isinstance(renewed, Done), renewed
    quote_id = renewed.value
    assert wait_for(lambda: _priced(client, quote_id), what="quote pricing") in PRICING_DONE
    order_id = _order_for(client, quote_id)
    assert client.fill_shipping_addresses([order_id]) == {order_id: Done(True)}
    assert client.fill_shipping_addresses([order_id]) == {order_id: Done(False)}
    assert client.activate_orders([order_id]) == {order_id: Done(order_id)}
    assert wait_for(lambda: _assetized(client, order_id), what="assetization") == "Completed"
    sources = client.read_asset_actions_for_orders([order_id])[order_id]
    categories = {(s.AssetAction.AssetId, s.AssetAction.CategoryEnum) for s in sources if s.AssetAction}
    assert (asset.Id, "Renewals") in categories
    assert len(client.read_state_periods([asset.Id])[asset.Id]) > periods_before
    # Reconciliation reads find exactly what was made, and re-activation is a no-op.
    actions = client.find_quote_actions([asset.Id], "Renew", started)
    assert [row.QuoteId for row in actions] == [quote_id]
    assert [order.Id for order in client.find_orders_for_quotes([quote_id])[quote_id]] == [order_id]
    patches = len([e for e in emulator.org.request_log.entries() if e.method == "PATCH"])
    assert client.activate_orders([order_id], reconcile=True) == {order_id: Done(order_id)}
    assert len([e for e in emulator.org.request_log.entries() if e.method == "PATCH"]) == patches
    assert client.read_order_status([order_id])[order_id].Status == "Activated"


def test_cancellation_end_to_end(emulator: Any) -> None:
    """Cancellation three months out → Cancellations action and no new state period."""
    client = client_for(emulator)
    asset = _asset(client, "Retail POS Enterprise")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    periods_before = len(client.read_state_periods([asset.Id])[asset.Id])
    when = _today(emulator) + timedelta(days=91)
    cancelled = client.initiate_cancellations([CancellationRequest(asset.Id, asset.AccountId, book, when)])[
        asset.Id
    ]
    assert isinstance(cancelled, Done), cancelled
    quote_id = cancelled.value
    wait_for(lambda: _priced(client, quote_id), what="quote pricing")
    order_id = _order_for(client, quote_id)
    client.fill_shipping_addresses([order_id])
    assert client.activate_orders([order_id]) == {order_id: Done(order_id)}
    assert wait_for(lambda: _assetized(client, order_id), what="assetization") == "Completed"
    sources = client.read_asset_actions_for_orders([order_id])[order_id]
    assert {s.AssetAction.CategoryEnum for s in sources if s.AssetAction} == {"Cancellations"}
    assert len(client.read_state_periods([asset.Id])[asset.Id]) == periods_before


def test_lock_errors_on_activation_are_retried(make_emulator: Any) -> None:
    """UNABLE_TO_LOCK_ROW on the activation PATCH is retried and the order activates once."""
    rule = FaultRule(kind="lock_row", calls=(1,), method="PATCH", path="/composite/sobjects")
    handle = make_emulator(
        EmulatorConfig(pricing_delay_s=0.0, assetize_delay_s=0.0, faults=FaultConfig(rules=[rule]))
    )
    client = client_for(handle)
    asset = _asset(client, "QuickBooks Online")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    renewed = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book, "Order")])[asset.Id]
    assert isinstance(renewed, Done), renewed
    order_id = renewed.value
    shipped = client.fill_shipping_addresses([order_id])  # first PATCH meets the lock and is retried
    assert shipped == {order_id: Done(True)}
    assert client.activate_orders([order_id]) == {order_id: Done(order_id)}
    patches = [e for e in handle.org.request_log.entries() if e.method == "PATCH"]
    assert [e.fault for e in patches].count("lock_row") == 1
    assert client.read_order_status([order_id])[order_id].Status == "Activated"


@pytest.mark.parametrize("kind", ["lose_answer", "hold_answer"])
def test_answer_lost_after_commit_is_uncertain_and_reconcilable(make_emulator: Any, kind: str) -> None:
    """The org commits the renewal but the answer is lost: Uncertain, no resend, QuoteAction found."""
    rule = FaultRule(kind=kind, calls=(1,), action="initiateRenewal", hold_s=3.0)
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(rules=[rule])))
    client = client_for(handle, read_timeout_s=1.0)
    asset = _asset(client, "Google Workspace")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    started = handle.org.clock.now()
    outcome = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book)])[asset.Id]
    assert isinstance(outcome, Uncertain)
    sent = [e for e in handle.org.request_log.entries() if e.action == "initiateRenewal"]
    assert len(sent) == 1
    found = wait_for(
        lambda: client.find_quote_actions([asset.Id], "Renew", started) or None, what="QuoteAction"
    )
    assert len(found) == 1


def test_inputs_per_request_adapt_to_the_org(make_emulator: Any) -> None:
    """The org accepts 2 inputs per request; the client starts at 8, halves, and remembers 2."""
    handle = make_emulator(EmulatorConfig(max_action_inputs=2, pricing_delay_s=0.0), seed="synthetic:50")
    client = client_for(handle, action_batch_size=8)
    now = handle.org.clock.now()
    candidates = list(client.select_renewal_candidates(now, now + timedelta(days=366)))
    books = client.asset_price_books([a.Id for a in candidates if a.Id])
    chosen: dict[tuple[str, str], Asset] = {}
    for asset in candidates:
        if asset.Id and asset.AccountId and asset.Id in books:
            chosen.setdefault((asset.AccountId, books[asset.Id]), asset)
    picked = list(chosen.values())[:5]
    assert len(picked) == 5
    items = [RenewalRequest(a.Id or "", a.AccountId or "", books[a.Id or ""]) for a in picked]
    outcomes = client.initiate_renewals(items)
    assert not [o for o in outcomes.values() if not isinstance(o, Done)], outcomes
    assert client.actions.batch_size("initiateRenewal") == 2
    statuses = [e.status for e in handle.org.request_log.entries() if e.action == "initiateRenewal"]
    assert statuses[0] == 400
    assert statuses.count(200) == 3


def test_orders_via_create_orders_from_quote_without_request_identifier(make_emulator: Any) -> None:
    """requestIdentifier left out by the org; the profile picks createOrdersFromQuote."""
    handle = make_emulator(EmulatorConfig(include_request_identifier=False, pricing_delay_s=0.0))
    client = client_for(handle, order_from_quote_action="createOrdersFromQuote")
    asset = _asset(client, "QuickBooks Online")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    renewed = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book)])[asset.Id]
    assert isinstance(renewed, Done), renewed
    wait_for(lambda: _priced(client, renewed.value), what="quote pricing")
    order_id = _order_for(client, renewed.value)
    assert [o.Id for o in client.find_orders_for_quotes([renewed.value])[renewed.value]] == [order_id]
    assert [e.action for e in handle.org.request_log.entries() if e.action and "Order" in e.action] == [
        "createOrdersFromQuote"
    ]


def test_pricing_failure_is_visible_with_its_error_log(emulator: Any) -> None:
    """A quote whose pricing fails reports PriceCalculationFailed and an error-log row for it."""
    client = client_for(emulator)
    asset = _asset(client, "Google Workspace")
    assert asset.Id
    assert asset.AccountId
    controls(emulator.org).fail_pricing_assets.add(asset.Id)
    book = client.asset_price_books([asset.Id])[asset.Id]
    renewed = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book)])[asset.Id]
    assert isinstance(renewed, Done), renewed

    def failed() -> str | None:
        status = client.quote_calculation_status([renewed.value])[renewed.value].CalculationStatus
        return status if status and status.endswith("Failed") else None

    assert wait_for(failed, what="pricing failure") == "PriceCalculationFailed"
    logs = client.read_error_logs(primary_record_ids=[renewed.value])
    assert [log.Category for log in logs] == ["InitiateRenewal"]
    assert logs[0].ErrorMessage is not None
    assert asset.Id in logs[0].ErrorMessage
    assert logs[0].RequestIdentifier is not None
    by_request = client.read_error_logs(request_identifiers=[logs[0].RequestIdentifier])
    assert [log.Id for log in by_request] == [logs[0].Id]


def test_order_output_is_reconciled_through_order_actions(emulator: Any) -> None:
    """A renewal made straight into an order is found again through OrderAction."""
    client = client_for(emulator)
    asset = _asset(client, "QuickBooks Online")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    started = emulator.org.clock.now()
    renewed = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book, "Order")])[asset.Id]
    assert isinstance(renewed, Done), renewed
    found = client.find_order_actions([asset.Id], "Renew", started)
    assert [row.OrderId for row in found] == [renewed.value]
    assert client.find_order_actions([asset.Id], "Cancel", started) == []
    assert client.find_quote_actions([asset.Id], "Renew", started) == []
