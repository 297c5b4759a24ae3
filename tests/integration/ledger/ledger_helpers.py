"""Helpers for the ledger tests: seeding runs, and worker loops run in threads or processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sfsync.clock import SystemClock
from sfsync.ledger import Change, Ledger, NewItem, open_ledger
from sfsync.sfid import make

T = TypeVar("T")

FIRST_FIRE = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def asset_ids(count: int, start: int = 1) -> list[str]:
    """Valid 18-character Asset ids."""
    return [make("02i", n) for n in range(start, start + count)]


def seeded_run(ledger: Ledger, count: int, *, job: str = "renewal-sweep", start: int = 1) -> str:
    """A pending renewal run holding ``count`` assets; returns its id."""
    run = ledger.runs.create(job, "renewal", "manual", "prod")
    result = ledger.items.add(run.id, [NewItem(a) for a in asset_ids(count, start)])
    assert result.inserted == count
    return run.id


def poll(check: Callable[[], T | None], timeout_s: float = 10.0) -> T:
    """Call ``check`` until it returns something truthy, or fail after ``timeout_s`` (no fixed sleeps)."""
    clock = SystemClock()
    deadline = clock.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if clock.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")


def drain(url: str, run_id: str, worker_id: str, batch: int) -> list[int]:
    """Claim batches until none is left, marking each claimed item done; return the ids claimed.

    Runs in a thread or in a spawned process (it opens its own ledger).
    """
    ledger = open_ledger(url, clock=SystemClock(), migrate=False)
    got: list[int] = []
    try:
        while True:
            claimed = ledger.claims.claim(run_id, ["selected"], worker_id, batch, 60)
            if not claimed:
                return got
            got.extend(i.id for i in claimed)
            result = ledger.claims.record_many(
                [
                    Change(i.lease, {"state": "done", "detail": {"by": worker_id}}, release=True)
                    for i in claimed
                ]
            )
            assert not result.refused
    finally:
        ledger.close()


def claim_ticks(url: str, worker_id: str, fires: int) -> list[datetime]:
    """Try to claim ``fires`` consecutive hourly ticks of one job; return those this worker won."""
    ledger = open_ledger(url, clock=SystemClock(), migrate=False)
    try:
        return [
            FIRST_FIRE + timedelta(hours=n)
            for n in range(fires)
            if ledger.ticks.claim("renewal-sweep", FIRST_FIRE + timedelta(hours=n), worker_id)
        ]
    finally:
        ledger.close()


def hold_slots(
    url: str, worker_id: str, rounds: int, max_concurrency: int
) -> list[tuple[datetime, datetime]]:
    """Acquire and release an org slot ``rounds`` times; return the database-time span of each hold."""
    ledger = open_ledger(url, clock=SystemClock(), migrate=False)
    spans: list[tuple[datetime, datetime]] = []
    try:
        while len(spans) < rounds:
            slot = ledger.slots.acquire("prod", worker_id, max_concurrency, lease_s=60)
            if slot is None:
                continue
            start = ledger.db_now()
            end = ledger.db_now()
            spans.append((start, end))
            assert ledger.slots.release(slot)
        return spans
    finally:
        ledger.close()


def peak_overlap(spans: list[tuple[datetime, datetime]]) -> int:
    """The largest number of spans covering one instant."""
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak
