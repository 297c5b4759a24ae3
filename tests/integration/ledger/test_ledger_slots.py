"""Per-org API concurrency slots and shared API usage, across concurrent workers."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from dbfixtures import PgServer
from ledger_helpers import hold_slots, peak_overlap, poll

from sfsync.clock import SystemClock
from sfsync.errors import LeaseLostError
from sfsync.ledger import Ledger, open_ledger


def test_concurrent_acquirers_never_exceed_max(ledger: Ledger, ledger_url: str) -> None:
    """Eight workers competing for three slots never hold more than three at once."""
    lock = threading.Lock()
    holding = 0
    peak = 0
    acquired = Counter()

    def worker(n: int) -> None:
        nonlocal holding, peak
        with open_ledger(ledger_url, clock=SystemClock(), migrate=False) as own:
            done = 0
            while done < 10:
                slot = own.slots.acquire("prod", f"w{n}", max_concurrency=3, lease_s=30)
                if slot is None:
                    continue
                with lock:
                    holding += 1
                    peak = max(peak, holding)
                    assert holding <= 3
                assert own.slots.in_use("prod") <= 3
                with lock:
                    holding -= 1
                assert own.slots.release(slot)
                done += 1
                acquired.add()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert acquired.value == 80
    assert 1 <= peak <= 3
    assert ledger.slots.in_use("prod") == 0


class Counter:
    """A thread-safe tally."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        """Count one."""
        with self._lock:
            self.value += 1


def test_all_slots_taken_then_expired_slot_is_reused(ledger: Ledger) -> None:
    """With every slot leased nobody gets one; an expired lease frees its slot, and fences its holder."""
    first = ledger.slots.acquire("prod", "dead-worker", max_concurrency=2, lease_s=0.3)
    second = ledger.slots.acquire("prod", "w2", max_concurrency=2, lease_s=60)
    assert first is not None
    assert second is not None
    assert first.slot != second.slot
    assert ledger.slots.in_use("prod") == 2
    taken = poll(lambda: ledger.slots.acquire("prod", "w3", max_concurrency=2, lease_s=60))
    assert taken.slot == first.slot
    assert taken.token == first.token + 1
    with pytest.raises(LeaseLostError, match="slot"):
        ledger.slots.renew(first, lease_s=60)
    assert not ledger.slots.release(first)
    assert ledger.slots.renew(taken, lease_s=120).holder == "w3"
    # Another org has its own slots.
    assert ledger.slots.acquire("sandbox", "w2", max_concurrency=1, lease_s=60) is not None
    assert ledger.slots.acquire("sandbox", "w3", max_concurrency=1, lease_s=60) is None


def test_lowering_max_concurrency_applies_at_once(ledger: Ledger) -> None:
    """Slots above a lowered maximum are not handed out."""
    held = [ledger.slots.acquire("prod", f"w{n}", max_concurrency=4, lease_s=60) for n in range(2)]
    assert all(held)
    assert ledger.slots.acquire("prod", "w9", max_concurrency=2, lease_s=60) is None


def test_usage_is_shared_between_workers(ledger: Ledger, ledger_url: str) -> None:
    """The last usage one worker reports is what every worker reads."""
    assert ledger.slots.usage("prod") is None
    with open_ledger(ledger_url, migrate=False) as other:
        other.slots.report_usage("prod", used=850, allowance=1000, worker_id="w2")
    seen = ledger.slots.usage("prod")
    assert seen is not None
    assert (seen.used, seen.allowance, seen.worker_id) == (850, 1000, "w2")
    assert seen.fraction == pytest.approx(0.85)
    ledger.slots.report_usage("prod", used=900, allowance=1000, worker_id="w1")
    latest = ledger.slots.usage("prod")
    assert latest is not None
    assert latest.used == 900
    assert latest.observed_at >= seen.observed_at


def test_peak_overlap_counts_concurrent_spans() -> None:
    """The overlap helper counts spans that share an instant (and not ones that merely touch)."""
    t = [datetime(2026, 1, 1, 0, 0, n, tzinfo=UTC) for n in range(6)]
    assert peak_overlap([(t[0], t[2]), (t[1], t[3]), (t[2], t[4])]) == 2
    assert peak_overlap([(t[0], t[5]), (t[1], t[2]), (t[1], t[3])]) == 3


@pytest.mark.postgres
@pytest.mark.slow
def test_worker_processes_share_the_org_limit(pg: PgServer) -> None:
    """Four worker processes on PostgreSQL never hold more than the org's two slots at once."""
    url = pg.fresh()
    try:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(4) as pool:
            results = pool.starmap(hold_slots, [(url, f"p{n}", 15, 2) for n in range(4)])
        spans = [span for r in results for span in r]
        assert len(spans) == 60
        assert 1 <= peak_overlap(spans) <= 2
    finally:
        pg.drop(url)
