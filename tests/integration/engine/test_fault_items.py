"""Scenarios 15–16 and the engine behaviours of issue 5: partial failure, late or failed assetization,
backoff, retry from existing records, stop at quote, output = order, the max_assets guard.

Figures come from the emulator's store and request log (``faultstats``), printed for ``pytest -s``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sfsync.clock import FixedClock
from sfsync.emulator.revenue.controls import controls
from sfsync.engine.selection import SelectionTooLarge
from tests.integration.engine.conftest import World
from tests.integration.engine.faultkit import SEED, config, expected_assets, run_sweep, sweep_job, writes
from tests.integration.engine.faultstats import Snapshot, all_items, figures

FULL_ADDRESS = {
    "ShippingStreet": "1 Main Street",
    "ShippingCity": "Springfield",
    "ShippingPostalCode": "12345",
    "ShippingCountry": "United States",
}


def test_three_of_two_hundred_fail_validation(world_factory: Callable[..., World]) -> None:
    """Scenario 15: 3 inputs of a 200-input batch fail validation: the rest succeed, 3 fail with code."""
    world = world_factory("synthetic:420:seed=5", config())
    job = sweep_job(batch_size=200)
    expected = sorted(expected_assets(world))
    assert len(expected) >= 200
    # Select first (a stopped engine selects, then pauses), then make three assets invalid in the org.
    stopped = threading.Event()
    stopped.set()
    paused = world.make_engine(stop=stopped).run_renewals(job)
    assert paused.status == "paused"
    store = world.emulator.org.store
    broken = expected[:3]
    for asset in broken:
        store.update("Asset", asset, {"HasLifecycleManagement": False})
    before = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    result = world.make_engine(worker="w2").drive(paused.run_id)
    figs = figures(world.emulator, world.ledger, [paused.run_id], set(expected), before)
    figs.report(f"3 invalid inputs: {result.status}")
    assert result.status == "partial"
    assert result.counts == {"verified": len(expected) - 3, "failed": 3}
    for item in all_items(world.ledger, paused.run_id):
        if item.asset_id in broken:
            assert item.state == "failed"
            assert item.sf_error_code == "INVALID_INPUT"
            assert item.sf_error_message
    assert figs.steps["initiate"].failed == 3
    assert figs.total("lost") == 0
    assert figs.total("duplicated") == 0
    # A permanent error is not retried: only the first call failed (400 with per-input errors);
    # any later call (valid inputs of a group that shared a refused quote, sent alone) succeeded.
    calls = [e for e in world.emulator.admin.requests() if e.action == "initiateRenewal"]
    print("initiate calls:", [(e.status, e.records) for e in calls])
    assert [e.status for e in calls if e.status != 200] == [400]
    assert len(calls) <= -(-len(expected) // 200) + 3


def test_failed_activation_recorded_then_retried_from_existing_records(
    world_factory: Callable[..., World],
) -> None:
    """Partial failure + `runs retry`: items fail with FAILED_ACTIVATION; after the fix, resume reuses IDs."""
    world = world_factory(SEED, config(enforce_shipping_address=True))
    for account in world.emulator.org.store.find("Account"):
        # Accounts with half an address: orders copy it, and activation refuses it.
        world.emulator.org.store.update(
            "Account", str(account["Id"]), {"ShippingStreet": None, "ShippingPostalCode": None}
        )
    first = run_sweep(world, world.make_engine(), "activation refused (no full address)", sweep_job())
    assert first.result.status == "failed"
    items = all_items(world.ledger, first.result.run_id)
    assert {(i.state, i.sf_error_code) for i in items} == {("failed", "FAILED_ACTIVATION")}
    assert all(i.sf_error_message and "shipping address" in i.sf_error_message for i in items)
    before_ids = {i.asset_id: (i.quote_id, i.order_id) for i in items}
    store = world.emulator.org.store
    for quote, order in before_ids.values():
        assert quote
        assert order
        store.update("Order", order, FULL_ADDRESS)
    reset = world.ledger.items.reset_failed(first.result.run_id, states=("failed", "timed_out", "mismatch"))
    assert reset.reset == len(items)
    snapshot = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    result = world.make_engine(worker="w2").drive(first.result.run_id)
    figs = figures(world.emulator, world.ledger, [result.run_id], first.expected, snapshot)
    figs.report(f"retry after fix: {result.status}")
    assert result.status == "succeeded"
    after = {i.asset_id: (i.quote_id, i.order_id) for i in all_items(world.ledger, result.run_id)}
    assert after == before_ids
    assert figs.calls["initiateRenewal"] == 0
    assert figs.calls["createOrderFromQuote"] == 0
    for asset in first.expected:
        assert len(snapshot.new(world.emulator, "QuoteAction", SourceAssetId=asset)) == 0


def test_late_assetization_verifies(world_factory: Callable[..., World]) -> None:
    """Scenario 16: assets appear 2 s late: every item verifies (late, not failed)."""
    world = world_factory(SEED, config())
    controls(world.emulator.org).extra_delay_s = 2.0
    out = run_sweep(world, world.make_engine(), "late assetization (+2 s)")
    assert out.result.status == "succeeded"
    assert out.result.counts == {"verified": len(out.expected)}
    assert out.figures.steps["verify"].ok == len(out.expected)
    assert out.figures.total("lost") == 0


def _poll_gaps(world: World, marks: list[tuple[float, int]]) -> list[float]:
    """Logical seconds between the verify-phase queries.

    ``marks`` holds, for each engine sleep, the clock reading and the request count at that moment:
    a request made before a mark and after the one before it was made at that mark's reading.
    """
    log = world.emulator.admin.requests()
    last_write = max(i for i, e in enumerate(log) if e.method == "PATCH")
    arrivals = []
    for index in range(last_write + 1, len(log)):
        at = next((t for t, n in marks if n > index), None)
        if at is not None and "/query" in log[index].path:
            arrivals.append(at)
    return [round(b - a, 3) for a, b in itertools.pairwise(arrivals)]


def test_failed_assetization_ends_with_the_error_log_reason(world_factory: Callable[..., World]) -> None:
    """Scenario 16 "never": assetization fails with an error-log row: items fail with that reason."""
    world = world_factory(SEED, config())
    knobs = controls(world.emulator.org)
    knobs.fail_all = True
    out = run_sweep(world, world.make_engine(), "assetization fails")
    assert out.result.status == "failed"
    for item in all_items(world.ledger, out.result.run_id):
        assert item.sf_error_code == "ASSETIZATION_FAILED"
        assert knobs.failure_code in (item.sf_error_message or "")
    assert out.figures.steps["verify"].failed == len(out.expected)
    assert out.figures.total("lost") == 0


def test_assetization_never_happens_times_out(world_factory: Callable[..., World]) -> None:
    """Scenario 16 "never", silently (assetization off): verification times out and says why."""
    world = world_factory(SEED, config(assetization_enabled=False, pricing_delay_s=0.0))
    # The engine runs on a clock that moves only when it sleeps, so the polling schedule is measured
    # in its own time, whatever the machine's load.
    clock = FixedClock(datetime.now(UTC))
    marks: list[tuple[float, int]] = []

    def sleep(seconds: float) -> None:
        marks.append((clock.monotonic(), len(world.emulator.admin.requests())))
        clock.advance(seconds)

    engine = world.make_engine(verify_timeout_s=3.0, clock=clock, sleep=sleep)
    out = run_sweep(world, engine, "assetization never happens")
    marks.append((clock.monotonic(), len(world.emulator.admin.requests())))
    # Polling backs off: a poll is a burst of queries (tracker, then effects when no tracker
    # exists); the pauses between bursts grow to the cap (0.5 s here) instead of staying at the
    # 0.05 s start, so 3 s of waiting takes a handful of polls, not sixty.
    gaps = _poll_gaps(world, marks)
    pauses = [g for g in gaps if g > 0.2]
    print("verify query gaps (s):", gaps, "pauses between polls:", pauses)
    assert 2 <= len(pauses) + 1 <= 12
    assert max(pauses) >= 4 * 0.05
    assert out.result.status == "failed"
    items = all_items(world.ledger, out.result.run_id)
    assert {i.state for i in items} == {"timed_out"}
    assert all(i.sf_error_code == "VERIFY_TIMEOUT" and i.sf_error_message for i in items)
    assert out.figures.steps["verify"].failed == len(out.expected)


def test_stop_at_quote_creates_no_order(world_factory: Callable[..., World]) -> None:
    """Stop-at-quote leaves quote_ready items and no order in the org."""
    world = world_factory(SEED, config())
    before = Snapshot.take(world.emulator)
    out = run_sweep(world, world.make_engine(), "stop at quote", sweep_job(mode="stop_at_quote"))
    assert out.result.counts == {"quote_ready": len(out.expected)}
    assert out.figures.steps["initiate"].ok == len(out.expected)
    assert out.figures.steps["initiate"].duplicated == 0
    assert before.new(world.emulator, "Order") == []
    assert out.figures.calls["createOrderFromQuote"] == 0


def test_output_order_skips_quote_to_order(world_factory: Callable[..., World]) -> None:
    """Output = order: one order per asset straight from initiate, no quote → order call, all verified."""
    world = world_factory(SEED, config())
    job = sweep_job(output="order")
    expected = expected_assets(world)
    before = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    result = world.make_engine().run_renewals(job)
    figs = figures(world.emulator, world.ledger, [result.run_id], expected, before, output="order")
    figs.report(f"output = order: {result.status}")
    assert result.counts == {"verified": len(expected)}
    assert figs.calls["createOrderFromQuote"] == 0
    assert figs.total("duplicated") == 0
    assert figs.steps["initiate"].ok == len(expected)


def test_max_assets_guard_stops_before_any_write(world_factory: Callable[..., World]) -> None:
    """A selection larger than max_assets fails the run before any write call."""
    world = world_factory(SEED, config())
    world.emulator.admin.reset_counters()
    job = sweep_job().model_copy(update={"limits": sweep_job().limits.model_copy(update={"max_assets": 5})})
    with pytest.raises(SelectionTooLarge, match="max_assets"):
        world.make_engine().run_renewals(job)
    assert writes(world) == 0


def test_assets_whose_term_has_not_started_verify(world_factory: Callable[..., World]) -> None:
    """A year's window takes assets whose current term starts later (CurrentQuantity 0): all verify."""
    world = world_factory(SEED, config())
    store = world.emulator.org.store
    candidates = expected_assets(world, 365)
    not_started = [a for a in candidates if not store.get("Asset", a)["CurrentQuantity"]]
    out = run_sweep(world, world.make_engine(), "365-day window", sweep_job(window_days=365))
    print(f"{len(not_started)} of {len(out.expected)} assets had not started their current term")
    assert not_started
    assert out.result.counts == {"verified": len(out.expected)}
    assert out.figures.total("lost") == 0
    assert out.figures.total("duplicated") == 0
