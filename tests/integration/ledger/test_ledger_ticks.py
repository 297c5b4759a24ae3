"""Tick claiming: every (job, fire time) has exactly one winner across workers."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from dbfixtures import PgServer
from ledger_helpers import FIRST_FIRE, claim_ticks, seeded_run

from sfsync.ledger import Ledger


def test_four_threads_twenty_ticks_one_winner_each(ledger: Ledger, ledger_url: str) -> None:
    """Four workers firing the same twenty ticks produce exactly one claim per tick."""
    with ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda n: claim_ticks(ledger_url, f"w{n}", 20), range(4)))
    per_tick = Counter(t for w in won for t in w)
    assert len(per_tick) == 20
    assert set(per_tick.values()) == {1}
    stored = ledger.ticks.find(job="renewal-sweep", limit=100)
    assert len(stored) == 20
    winners = {t.fire_time: t.claimed_by for t in stored}
    for n, fires in enumerate(won):
        assert all(winners[f] == f"w{n}" for f in fires)


@pytest.mark.postgres
@pytest.mark.slow
def test_four_processes_twenty_ticks_one_winner_each(pg: PgServer) -> None:
    """Four worker processes on PostgreSQL claim each of twenty ticks exactly once."""
    url = pg.fresh()
    try:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(4) as pool:
            won = pool.starmap(claim_ticks, [(url, f"p{n}", 20) for n in range(4)])
        per_tick = Counter(t for w in won for t in w)
        assert len(per_tick) == 20
        assert set(per_tick.values()) == {1}
    finally:
        pg.drop(url)


def test_missed_fire_and_run_link(ledger: Ledger) -> None:
    """A missed fire is recorded once and cannot be claimed later; a claimed tick links to its run."""
    late = FIRST_FIRE + timedelta(days=1)
    assert ledger.record_missed("renewal-sweep", late)
    assert not ledger.record_missed("renewal-sweep", late)
    assert not ledger.claim_tick("renewal-sweep", late, "w1")
    missed = ledger.ticks.get("renewal-sweep", late)
    assert missed is not None
    assert missed.status == "missed"
    assert missed.claimed_by is None

    assert ledger.ticks.claim("renewal-sweep", FIRST_FIRE, "w1")
    run_id = seeded_run(ledger, 1)
    ledger.ticks.attach_run("renewal-sweep", FIRST_FIRE, run_id)
    tick = ledger.ticks.get("renewal-sweep", FIRST_FIRE)
    assert tick is not None
    assert (tick.status, tick.run_id, tick.claimed_by) == ("claimed", run_id, "w1")
    assert tick.fire_time == FIRST_FIRE
    assert [t.status for t in ledger.ticks.find(job="renewal-sweep")] == ["missed", "claimed"]
    assert [t.fire_time for t in ledger.ticks.find(status="missed")] == [late]
    # Another job's tick at the same time is a different tick.
    assert ledger.ticks.claim("cancellation-run", FIRST_FIRE, "w2")
