"""Scenarios 2, 3, 10–14: lost answers, refused connections, 500/503 storms, locks, sessions, limits.

Figures come from the emulator (store and request log) through ``faultstats`` and are printed
(``pytest -s`` shows them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sfsync.clock import SystemClock
from sfsync.emulator.config import FaultRule
from sfsync.engine.batch import EXIT_PAUSED
from sfsync.engine.runner import Engine
from tests.integration.engine.conftest import World
from tests.integration.engine.faultkit import (
    SEED,
    Outcome,
    config,
    expected_assets,
    run_sweep,
    sweep_job,
)
from tests.integration.engine.faultstats import Snapshot, all_items, figures

#: Small claims, so that a sweep makes enough calls for rate-based faults to matter.
SMALL = sweep_job(batch_size=5)


def _clean(out: Outcome) -> None:
    """Every expected asset verified, with one quote, one order, one activation."""
    assert out.result.status == "succeeded", out.result
    assert out.result.counts == {"verified": len(out.expected)}
    for name, figs in out.figures.steps.items():
        assert (figs.attempted, figs.ok) == (len(out.expected), len(out.expected)), name
    assert out.figures.total("duplicated") == 0
    assert out.figures.total("lost") == 0
    assert out.figures.total("failed") == 0


def test_fault_free_baseline(world_factory: Callable[..., World]) -> None:
    """Without faults every asset of the sweep verifies with one quote, order and activation."""
    world = world_factory(SEED, config())
    out = run_sweep(world, world.make_engine(), "baseline", SMALL)
    assert len(out.expected) > 30
    _clean(out)


def test_lost_answers_are_reconciled_not_resent(world_factory: Callable[..., World]) -> None:
    """Scenario 2: 20% of creating calls commit but lose their answer; all recovered, none duplicated."""
    rules = [
        FaultRule("lose_answer", rate=0.2, method="POST", path="/actions/"),
        FaultRule("lose_answer", rate=0.2, method="PATCH", path="/composite/sobjects"),
    ]
    clean = world_factory(SEED, config())
    base = run_sweep(clean, clean.make_engine(), "lose_answer baseline", SMALL)
    world = world_factory(SEED, config(*rules))
    out = run_sweep(world, world.make_engine(), "lose_answer 20%", SMALL)
    _clean(out)
    lost_calls = [e for e in world.emulator.admin.requests() if e.fault == "lose_answer"]
    assert len(lost_calls) >= 3
    injected = sum(v for k, v in out.figures.faults.items() if k.startswith("lose_answer"))
    assert out.figures.total("recovered") == injected
    # At most 2 extra calls (a reconciling read, a resend) per item whose answer was lost.
    extra = sum(out.figures.calls.values()) - sum(base.figures.calls.values())
    print(f"extra calls: {extra} for {injected} recovered item(s)")
    assert extra <= 2 * injected


def test_refused_before_sending_is_retried_without_duplicates(world_factory: Callable[..., World]) -> None:
    """Scenario 3: connections dropped before processing are retried within the cap; nothing doubles."""
    rule = FaultRule("drop_before", rate=0.2, path="/services/data/")
    world = world_factory(SEED, config(rule), max_retries=5)
    out = run_sweep(world, world.make_engine(), "drop_before 20%", SMALL)
    # A connection closed after the request went out is indistinguishable, for the client, from a
    # lost answer: the engine reconciles and resends. A group unlucky enough to be dropped on every
    # try (20% per call, max_reconciles resends) ends failed *with a reason*, never lost or doubled.
    assert out.figures.total("duplicated") == 0
    assert out.figures.total("lost") == 0
    for item in all_items(world.ledger, out.result.run_id):
        assert item.state == "verified" or item.sf_error_code == "RECONCILE_EXHAUSTED", item
    assert out.result.counts.get("verified", 0) >= len(out.expected) - 10
    dropped = [e for e in world.emulator.admin.requests() if e.fault == "drop_before"]
    assert dropped
    assert not any(e.committed for e in dropped)


def test_500_503_storm_with_a_burst(world_factory: Callable[..., World]) -> None:
    """Scenario 10: 20% 500/503 and a burst of 100%: failed 0, duplicated 0, calls ≤ 1.3× + retries."""
    clean = world_factory(SEED, config())
    base = run_sweep(clean, clean.make_engine(), "storm baseline", SMALL)
    base_calls = sum(base.figures.calls.values())
    rules = [
        FaultRule("http_503", rate=0.1, path="/services/data/"),
        FaultRule("http_500", rate=0.1, path="/services/data/", method="GET"),
        FaultRule("http_503", calls=tuple(range(20, 26)), path="/services/data/"),
    ]
    world = world_factory(SEED, config(*rules), max_retries=8, backoff_cap_s=0.05)
    out = run_sweep(world, world.make_engine(), "500/503 storm", SMALL)
    _clean(out)
    faulted = sum(1 for e in world.emulator.admin.requests() if e.fault)
    assert faulted >= 5
    successful = sum(out.figures.calls.values()) - faulted
    assert successful <= 1.3 * base_calls


def test_row_locks_on_orders_and_activations(world_factory: Callable[..., World]) -> None:
    """Scenario 11: UNABLE_TO_LOCK_ROW on 20% of order creations and activations: failed 0."""
    rules = [
        FaultRule("lock_row", rate=0.2, method="POST", path="/actions/standard/createOrder"),
        FaultRule("lock_row", rate=0.2, method="PATCH", path="/composite/sobjects"),
    ]
    world = world_factory(SEED, config(*rules), max_retries=8, backoff_cap_s=0.05)
    out = run_sweep(world, world.make_engine(), "lock_row 20%", SMALL)
    _clean(out)
    assert sum(1 for e in world.emulator.admin.requests() if e.fault == "lock_row") >= 2


def test_session_expiry_reauthenticates_once_per_expiry(world_factory: Callable[..., World]) -> None:
    """Scenario 12: the session expires at call 5 and every 25 calls after: token requests = expiries + 1."""
    rule = FaultRule("session_expiry", start_at=5, every=25, path="/services/data/")
    world = world_factory(SEED, config(rule))
    out = run_sweep(world, world.make_engine(), "session expiry", SMALL)
    _clean(out)
    expiries = sum(1 for e in world.emulator.admin.requests() if e.fault == "session_expiry")
    assert expiries >= 2
    assert out.figures.calls["token"] == expiries + 1


def test_persistent_401_stops_with_a_clear_message(world_factory: Callable[..., World]) -> None:
    """Scenario 12: a 401 that persists after re-authenticating stops the run and says so."""
    rule = FaultRule("session_expiry", start_at=3, every=1, path="/services/data/")
    world = world_factory(SEED, config(rule))
    engine = world.make_engine()
    before = Snapshot.take(world.emulator)
    try:
        result = engine.run_renewals(SMALL)
        message = result.message
        assert result.status in {"paused", "failed"}
    except Exception as exc:  # the client may raise AuthError out of selection
        message = str(exc)
    print("persistent 401:", message)
    assert "auth" in message.lower() or "session" in message.lower()
    assert before.new(world.emulator, "QuoteAction") == []


def test_total_requests_limit_pauses_and_resumes(world_factory: Callable[..., World]) -> None:
    """Scenario 13: TotalRequests Limit exceeded at call k: exit 75, nothing failed, ≤1 call after; resume."""
    world = world_factory(SEED, config(daily_api_limit=100_000), api_reserve=0.0)
    expected = expected_assets(world)
    before = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    admin = world.emulator.admin
    k = 15
    # The org's allowance runs out at call k, behind the client's back (another integration used it).
    exhaust = threading.Thread(target=_exhaust_at, args=(world, k), daemon=True)
    exhaust.start()
    result = world.make_engine().run_renewals(SMALL)
    exhaust.join(timeout=30)
    log = admin.requests()
    first_403 = next(i for i, e in enumerate(log) if e.status == 403)
    data_after = [e for e in log[first_403 + 1 :] if "/oauth2/" not in e.path]
    print(
        f"limit: {result.status} exit={result.exit_code} {result.message}; calls after 403: {len(data_after)}"
    )
    assert result.exit_code == EXIT_PAUSED
    assert "TotalRequests" in result.message or "limit" in result.message.lower()
    assert result.counts.get("failed", 0) == 0
    assert len(data_after) <= 1
    # The org's counter resets (a new day). The 403's usage, shared through the ledger, must not
    # block the resumed run forever: once older than the TTL it is no evidence and a call goes out.
    admin.set_usage(0, 100_000)
    ttl = 0.3
    shared = world.ledger.slots.usage("emulator")
    assert shared is not None
    assert shared.used == 100_000
    deadline = time.monotonic() + 10
    while not _older_than(shared.observed_at, ttl) and time.monotonic() < deadline:
        time.sleep(0.02)
    base = world.make_engine(worker="w2")
    resumer = Engine(
        ledger=world.ledger,
        sf=base.sf,
        profile=base.profile,
        org_name="emulator",
        clock=SystemClock(),
        sleep=time.sleep,
        tuning=replace(base.tuning, usage_ttl_s=ttl),
    )
    resumed = resumer.drive(result.run_id)
    figs = figures(world.emulator, world.ledger, [result.run_id], expected, before)
    figs.report(f"limit then resume: {resumed.status} {resumed.message}")
    assert resumed.status == "succeeded"
    assert resumed.counts == {"verified": len(expected)}
    assert figs.total("duplicated") == 0
    assert figs.total("lost") == 0


def _older_than(moment: datetime, seconds: float) -> bool:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - aware).total_seconds() > seconds


def _exhaust_at(world: World, k: int) -> None:
    """Use up the org's daily allowance once the request log holds k requests (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(world.emulator.admin.requests()) >= k:
            world.emulator.admin.set_usage(100_000, 100_000)
            return
        time.sleep(0.002)


def test_budget_reserve_stops_before_90_percent(world_factory: Callable[..., World]) -> None:
    """Scenario 14: usage starts at 85% with a 10% reserve: the run stops before 90% and says why."""
    world = world_factory(SEED, config(daily_api_limit=1_000, initial_api_usage=850), api_reserve=0.1)
    result = world.make_engine().run_renewals(SMALL)
    used = world.emulator.org.usage.header()
    print(f"reserve: {result.status} exit={result.exit_code} {result.message}; {used}")
    assert result.exit_code == EXIT_PAUSED
    assert "reserve" in result.message
    used_now = int(used.split("=", 1)[1].split("/", 1)[0])
    assert used_now <= 900
