"""Items waiting for Salesforce's asynchronous work stay leased by their worker, in memory.

Pricing and assetization take longer than a lease here (1 s), so without renewals another worker
could take the items; the worker polls them without claiming, reading or writing them each time,
renews their leases together, and hands them back when it stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sfsync.emulator.harness import wait_for
from sfsync.engine.runner import Engine, RunResult
from sfsync.ledger.records import Item
from tests.integration.engine.conftest import World
from tests.integration.engine.faultkit import config, expected_assets, sweep_job
from tests.integration.engine.faultstats import all_items

SEED = "synthetic:40:seed=5"
LEASE_S = 1.0
#: Longer than a lease: unrenewed, every waiting item's lease would run out while it waits.
SLOW_S = 2.5


def _thief_takes(world: World, run_id: str, result: Future[RunResult]) -> list[Item]:
    """Another worker trying, until the run ends, to claim items that wait for Salesforce."""
    stolen: list[Item] = []
    while not result.done():
        stolen += world.ledger.claims.claim(run_id, ["quoted", "activated"], "thief", 100, lease_s=60)
        try:
            result.result(timeout=0.2)
        except TimeoutError:
            continue
    return stolen


def _run_id(world: World) -> str:
    assert wait_for(lambda: world.ledger.runs.find(), timeout=30)
    return world.ledger.runs.find()[0].id


def test_waiting_items_stay_leased_longer_than_a_lease_and_nobody_takes_them(
    world_factory: Callable[..., World],
) -> None:
    """Slow pricing and assetization: no other worker gets an item, and each is sent once."""
    world = world_factory(SEED, config(pricing_delay_s=SLOW_S, assetize_delay_s=SLOW_S))
    expected = expected_assets(world)
    engine = world.make_engine(lease_s=LEASE_S)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(engine.run_renewals, sweep_job(batch_size=8))
        stolen = _thief_takes(world, _run_id(world), result)
        outcome = result.result()
    assert stolen == []
    assert outcome.status == "succeeded", outcome.message
    items = all_items(world.ledger, outcome.run_id)
    assert {i.asset_id for i in items} == expected
    assert {i.state for i in items} == {"verified"}
    # One intent per creating step and item (initiate, order, activate): nothing was lost and redone.
    assert {i.attempts for i in items} == {3}
    assert all(i.lease_owner is None for i in items)
    events = {e.event for e in world.ledger.events.find(outcome.run_id, limit=10_000)}
    assert "waiting_items_lost" not in events


def test_a_stopped_worker_hands_its_waiting_items_back_and_the_next_one_goes_on(
    world_factory: Callable[..., World],
) -> None:
    """Stopped while items wait for assetization: their leases end at once; a resume verifies them."""
    world = world_factory(SEED, config(pricing_delay_s=0.0, assetize_delay_s=SLOW_S))
    stop = threading.Event()
    first = world.make_engine(lease_s=30.0, stop=stop)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(first.run_renewals, sweep_job())
        run_id = _run_id(world)
        assert wait_for(lambda: world.ledger.items.counts(run_id).get("activated", 0) > 0, timeout=60)
        stop.set()
        paused = result.result(timeout=60)
    assert paused.status == "paused"
    waiting = [i for i in all_items(world.ledger, run_id) if i.state == "activated"]
    assert waiting
    # Handed back, not left to run out (30 s): any worker can go on with them at once.
    assert all(i.lease_owner is None and i.lease_expires_at is None for i in waiting)
    second: Engine = world.make_engine(worker="w2", lease_s=30.0)
    resumed = second.drive(run_id)
    assert resumed.status == "succeeded", resumed.message
    items = all_items(world.ledger, run_id)
    assert {i.state for i in items} == {"verified"}
    assert {i.attempts for i in items} == {3}


def test_past_the_memory_bound_items_wait_in_the_ledger(world_factory: Callable[..., World]) -> None:
    """With room for 3 waiting items, the others wait released in the ledger; all are verified."""
    world = world_factory(SEED, config(pricing_delay_s=0.0, assetize_delay_s=1.0))
    engine = world.make_engine(lease_s=30.0, max_waiting=3)
    seen_released: list[int] = []

    def released_waiting(run_id: str) -> bool:
        # Activated items nobody holds: waiting for assetization in the ledger, not in memory.
        found = [
            i for i in all_items(world.ledger, run_id) if i.state == "activated" and i.lease_owner is None
        ]
        seen_released.extend(i.id for i in found)
        return bool(found)

    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(engine.run_renewals, sweep_job(batch_size=4))
        run_id = _run_id(world)
        assert wait_for(lambda: released_waiting(run_id) or result.done(), timeout=60)
        outcome = result.result(timeout=120)
    assert seen_released, "some items should have waited in the ledger"
    assert outcome.status == "succeeded", outcome.message
    assert {i.state for i in all_items(world.ledger, run_id)} == {"verified"}
