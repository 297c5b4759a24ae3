"""The training unit's scenario, automated by the engine against the emulator over HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sfsync.engine.cancel_input import CancelRow
from sfsync.engine.states import State
from sfsync.lifecycle.terms import add_months_to_date
from tests.integration.engine.conftest import World, cancellation_job, renewal_job


def _asset(world: World, name: str) -> dict[str, object]:
    [row] = world.emulator.org.store.find("Asset", Name=name)
    return row


def test_google_workspace_renewed_with_override_term(world_factory: Callable[..., World]) -> None:
    """Renew → override today..today+1y → quote → single order → activate → Renewals action + new period."""
    world = world_factory()
    google = _asset(world, "Google Workspace")
    quickbooks_before = _asset(world, "QuickBooks Online")
    periods_before = world.emulator.org.store.find("AssetStatePeriod", AssetId=google["Id"])
    result = world.make_engine().run_renewals(renewal_job(term="override", start="today", end="today+1y"))

    assert result.status == "succeeded", result
    assert result.counts == {State.VERIFIED.value: 1}
    [item] = world.ledger.items.find(result.run_id)
    assert item.asset_id == google["Id"]
    assert item.quote_id
    assert item.quote_id.startswith("0Q0")
    assert item.order_id
    assert item.order_id.startswith("801")

    store = world.emulator.org.store
    actions = [a for a in store.find("AssetAction", AssetId=google["Id"]) if a["CategoryEnum"] == "Renewals"]
    assert len(actions) == 1
    today = datetime.now(UTC).date()
    new_end = datetime.combine(add_months_to_date(today, 12), datetime.min.time(), UTC) - timedelta(seconds=1)
    periods_after = store.find("AssetStatePeriod", AssetId=google["Id"])
    fresh = [p for p in periods_after if p["Id"] not in {b["Id"] for b in periods_before}]
    assert [(p["StartDate"].date(), p["EndDate"]) for p in fresh] == [(today, new_end)]
    assert _asset(world, "Google Workspace")["LifecycleEndDate"] == new_end
    assert len(store.find("Order", QuoteId=item.quote_id)) == 1
    assert _asset(world, "QuickBooks Online") == quickbooks_before


def test_retail_pos_cancelled_three_months_out(world_factory: Callable[..., World]) -> None:
    """Cancel → date today+3m → quote line −1 / end 0 → order → activate → Cancellations, no new period."""
    world = world_factory()
    pos = _asset(world, "Retail POS Enterprise")
    store = world.emulator.org.store
    periods_before = store.find("AssetStatePeriod", AssetId=pos["Id"])
    when = add_months_to_date(datetime.now(UTC).date(), 3)
    rows = [CancelRow(line=2, asset_id=str(pos["Id"]), cancellation_date=when, date_from_file=False)]
    result = world.make_engine().run_cancellations(cancellation_job(date="today+3m"), rows)

    assert result.status == "succeeded", result
    [item] = world.ledger.items.find(result.run_id)
    [line] = store.find("QuoteLineItem", QuoteId=item.quote_id)
    assert (line["Quantity"], line["EndQuantity"]) == (-1, 0)
    [action] = [
        a for a in store.find("AssetAction", AssetId=pos["Id"]) if a["CategoryEnum"] == "Cancellations"
    ]
    assert action["QuantityChange"] == -1
    periods_after = store.find("AssetStatePeriod", AssetId=pos["Id"])
    assert {p["Id"] for p in periods_after} <= {p["Id"] for p in periods_before}
    cancel_at = datetime.combine(when, datetime.min.time(), UTC)
    assert max(p["EndDate"] for p in periods_after) == cancel_at - timedelta(seconds=1)


def test_dry_run_makes_no_write(world_factory: Callable[..., World]) -> None:
    """A dry run selects and records what it would do, and the emulator sees no write call."""
    world = world_factory()
    world.emulator.admin.reset_counters()
    result = world.make_engine().run_renewals(renewal_job(), dry_run=True)
    assert result.counts == {State.SKIPPED.value: 1}
    writes = [
        e
        for e in world.emulator.admin.requests()
        if e.method in {"POST", "PATCH", "DELETE"} and "/oauth2/" not in e.path and "/query" not in e.path
    ]
    assert writes == []
