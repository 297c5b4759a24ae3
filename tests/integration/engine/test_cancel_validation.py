"""Cancellation input checked against Salesforce before any write; ``--strict`` refuses the whole run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sfsync import sfid
from sfsync.engine.cancel_input import CancelRow
from sfsync.lifecycle.terms import add_months_to_date
from tests.integration.engine.conftest import World, cancellation_job, fast_config
from tests.integration.engine.faultkit import writes
from tests.integration.engine.faultstats import Snapshot, all_items


def _ids(world: World) -> dict[str, str]:
    return {str(a["Name"]): str(a["Id"]) for a in world.emulator.org.store.find("Asset")}


def _rows(world: World) -> list[CancelRow]:
    """One row of each kind of problem, and one good row (line numbers as in a CSV with a header)."""
    ids = _ids(world)
    today = datetime.now(UTC).date()
    soon = add_months_to_date(today, 1)
    wanted = [
        (sfid.make("02i", 9999), soon),  # unknown asset
        (ids["QuickBooks Online"], soon),  # made not lifecycle-managed below
        (ids["Retail POS Enterprise"], soon),  # cancelled below
        (ids["Inventory Sync Module"], soon),  # a bundle child
        (ids["Google Workspace"], today + timedelta(days=400)),  # after the asset's end
        (ids["Roastery Operations Suite"], soon),  # fine
    ]
    return [
        CancelRow(line=n, asset_id=asset, cancellation_date=when, date_from_file=True)
        for n, (asset, when) in enumerate(wanted, start=2)
    ]


def _prepare(world: World) -> None:
    """Make QuickBooks not lifecycle-managed, and cancel Retail POS in an earlier run."""
    ids = _ids(world)
    world.emulator.org.store.update("Asset", ids["QuickBooks Online"], {"HasLifecycleManagement": False})
    when = add_months_to_date(datetime.now(UTC).date(), 3)
    rows = [
        CancelRow(line=2, asset_id=ids["Retail POS Enterprise"], cancellation_date=when, date_from_file=False)
    ]
    first = world.make_engine().run_cancellations(cancellation_job(date="today+3m"), rows)
    assert first.status == "succeeded", first


def test_each_bad_row_rejected_with_its_reason(world_factory: Callable[..., World]) -> None:
    """Unknown, not managed, cancelled, bundle child, date outside life: rejected; the good row runs."""
    world = world_factory("capricorn", fast_config())
    _prepare(world)
    before = Snapshot.take(world.emulator)
    result = world.make_engine(worker="w2").run_cancellations(cancellation_job(), _rows(world))
    items = {i.asset_id: i for i in all_items(world.ledger, result.run_id)}
    for item in items.values():
        print(f"{item.state:<9} {item.asset_name or item.asset_id}: {item.sf_error_message}")
    ids = _ids(world)
    assert result.status == "partial"
    assert items[ids["Roastery Operations Suite"]].state == "verified"
    reasons = {
        ids["QuickBooks Online"]: "not a lifecycle-managed",
        ids["Inventory Sync Module"]: "bundle",
        ids["Retail POS Enterprise"]: "cancel",
        ids["Google Workspace"]: "",
    }
    for asset, words in reasons.items():
        assert items[asset].state == "rejected", asset
        assert words.lower() in (items[asset].sf_error_message or "").lower()
    unknown = [i for a, i in items.items() if a not in ids.values()]
    assert [i.state for i in unknown] == ["rejected"]
    made = [a["SourceAssetId"] for a in before.new(world.emulator, "QuoteAction", Type="Cancel")]
    # Cancelling the bundle's root takes its component along (one quote line each); nothing else.
    assert sorted(made) == sorted([ids["Roastery Operations Suite"], ids["Inventory Sync Module"]])


def test_strict_refuses_every_row(world_factory: Callable[..., World]) -> None:
    """With --strict one rejected row refuses the run: nothing is sent to Salesforce."""
    world = world_factory("capricorn", fast_config())
    _prepare(world)
    world.emulator.admin.reset_counters()
    result = world.make_engine(worker="w2").run_cancellations(cancellation_job(), _rows(world), strict=True)
    print(f"strict: {result.status} {result.message}")
    assert result.status == "failed"
    assert "--strict" in result.message
    assert writes(world) == 0
    assert {i.state for i in all_items(world.ledger, result.run_id)} <= {"rejected", "skipped"}
