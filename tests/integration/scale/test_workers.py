"""Several worker processes on one PostgreSQL ledger (issue 7; RELIABILITY 6-9), witnessed by the org.

Every figure is taken from the emulator's store and request log (quotes, orders, activations and
renewal asset actions per asset), not from sfsync's own view.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from sfsync.clock import SystemClock
from sfsync.emulator.harness import wait_for
from sfsync.engine.states import OPEN
from sfsync.ledger.ledger import Ledger, open_ledger
from tests.integration.scale.cluster import ROOT, Cluster, effects, the_run, wait_all
from tests.integration.scale.netcut import LinkCutter

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

Build = Callable[..., tuple[Cluster, Ledger]]
WRITES = frozenset({"POST", "PATCH", "DELETE", "PUT"})


class AheadClock:
    """The system clock, ten minutes fast (a worker with a badly set clock)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset
        self._real = SystemClock()

    def now(self) -> datetime:
        """The wrong time."""
        return self._real.now() + self.offset

    def monotonic(self) -> float:
        """Durations are not affected by a wrong wall clock."""
        return self._real.monotonic()


def assert_exactly_once(cluster: Cluster, book: Ledger, run_id: str, assets: int) -> None:
    """The run ended, every asset has one item, and the org shows one of everything per asset."""
    run = book.runs.get(run_id)
    assert run is not None
    assert not run.active, f"run still {run.status}"
    items = book.items.find(run_id, limit=100_000)
    assert len({item.asset_id for item in items}) == len(items) == assets
    assert not [item for item in items if item.state in {s.value for s in OPEN}]
    org = effects(cluster.emulator)
    print(f"calls: {dict(org.calls)}")
    for item in items:
        made = (
            org.quotes[item.asset_id],
            org.orders[item.asset_id],
            org.activated[item.asset_id],
            org.renew_actions[item.asset_id],
        )
        assert made == (1, 1, 1, 1), f"{item.asset_id} ({item.state}): quotes/orders/activated/actions {made}"
    assert org.duplicated() == 0


def progressed(book: Ledger, run_id: str, beyond: int) -> Callable[[], bool]:
    """True once more than ``beyond`` items left the selected state."""

    def check() -> bool:
        counts = book.items.counts(run_id)
        return sum(n for state, n in counts.items() if state != "selected") > beyond

    return check


@pytest.mark.timeout(420)
def test_three_workers_share_a_5000_asset_sweep(cluster_factory: Build) -> None:
    """Three processes (one creates the run, two join it) process each of 5,000 assets exactly once."""
    cluster, book = cluster_factory(5000)
    started = time.monotonic()
    procs = [cluster.start_creator("w0")]
    run = the_run(book)
    procs += [cluster.start_joiner(run.id, f"w{n}") for n in (1, 2)]
    owners: set[str] = set()
    peek = create_engine(make_url(cluster.ledger_url), poolclass=NullPool)
    leased = text("SELECT DISTINCT lease_owner FROM items WHERE run_id = :run AND lease_owner IS NOT NULL")

    def ended() -> bool:
        # A light look (the emulator shares this process): who holds leases on the run right now.
        with peek.connect() as conn:
            owners.update(str(row[0]) for row in conn.execute(leased, {"run": run.id}))
        return all(proc.poll() is not None for proc in procs)

    try:
        assert wait_for(ended, 400, interval=2.0), "the workers did not finish"
    finally:
        peek.dispose()
    codes = wait_all(procs, 5)
    print(f"5,000 assets, 3 workers: {time.monotonic() - started:.1f} s, exit codes {codes}")
    assert set(codes) <= {0, 1}, [cluster.stderr(f"w{n}")[-2000:] for n in range(3)]
    assert_exactly_once(cluster, book, run.id, 5000)
    # The work was shared: items were seen leased by each of the three processes.
    assert len(owners) == 3, owners


def test_sigkill_of_one_worker_loses_and_duplicates_nothing(cluster_factory: Build) -> None:
    """A worker killed mid-run: the others take its items over; one of everything per asset."""
    cluster, book = cluster_factory(1000)
    procs = [cluster.start_creator("w0")]
    run = the_run(book)
    victim = cluster.start_joiner(run.id, "w1")
    procs.append(cluster.start_joiner(run.id, "w2"))
    assert wait_for(progressed(book, run.id, 200), 120), "the run did not get going"
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    codes = wait_all(procs, 150)
    assert set(codes) <= {0, 1}, [cluster.stderr(n)[-2000:] for n in ("w0", "w2")]
    assert_exactly_once(cluster, book, run.id, 1000)


def test_two_workers_firing_one_tick_start_one_run(cluster_factory: Build) -> None:
    """Two processes fire the same (job, fire time) at once: one run, linked to the tick."""
    cluster, book = cluster_factory(50)
    fire = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    go = cluster.workdir / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.scale.tickfire",
                str(cluster.job),
                fire.isoformat(),
                str(go),
            ],
            cwd=ROOT,
            env=cluster.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    # Both processes wait for the go file before claiming: start the race.
    go.touch()
    outs = [proc.communicate(timeout=120) for proc in procs]
    answers = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    assert sorted(a["won"] for a in answers) == [False, True], [err.decode()[-2000:] for _, err in outs]
    runs = book.runs.find(job="scale-sweep", limit=10)
    assert len(runs) == 1
    tick = book.ticks.get("scale-sweep", fire)
    assert tick is not None
    assert tick.run_id == runs[0].id
    assert runs[0].status in {"succeeded", "partial"}


def test_a_worker_ten_minutes_fast_reclaims_nothing_early(cluster_factory: Build) -> None:
    """While a stopped worker's leases live (on the database clock), a worker ten minutes ahead takes none."""
    cluster, book = cluster_factory(150, lease_s=30.0)
    holder = cluster.start_creator("w0")
    run = the_run(book)
    assert wait_for(lambda: bool(book.items.find(run.id, limit=1) and _leased(book, run.id)), 60)
    holder.send_signal(signal.SIGSTOP)
    try:
        held = _leased(book, run.id)
        assert held
        ahead = open_ledger(cluster.ledger_url, clock=AheadClock(timedelta(minutes=10)), migrate=False)
        try:
            states = sorted({s.value for s in OPEN})
            taken = ahead.claims.claim(run.id, states, "fast-clock", 10_000, 30.0)
            assert not {item.id for item in taken} & set(held), "a live lease was reclaimed"
        finally:
            ahead.close()
        after = {item.id: item.lease_owner for item in book.items.find(run.id, limit=100_000)}
        assert {item_id: after[item_id] for item_id in held} == held
    finally:
        holder.send_signal(signal.SIGCONT)
    assert holder.wait(timeout=150) in {0, 1}


def _leased(book: Ledger, run_id: str) -> dict[int, str]:
    """Items whose lease has not expired on the database clock, with their owner."""
    now = datetime.now(UTC)
    return {
        item.id: item.lease_owner
        for item in book.items.find(run_id, limit=100_000)
        if item.lease_owner and item.lease_expires_at and item.lease_expires_at > now + timedelta(seconds=2)
    }


def test_a_worker_cut_from_the_ledger_writes_nothing_after_its_lease(cluster_factory: Build) -> None:
    """No Salesforce write while the only worker's database link is down beyond its lease."""
    lease_s = 3.0
    cluster, book = cluster_factory(400, latency_ms=20, lease_s=lease_s, read_timeout_s=1.0, max_retries=0)
    target = make_url(cluster.ledger_url)
    link = LinkCutter(target.host or "127.0.0.1", target.port or 5432)
    try:
        via_proxy = cluster.config_for(
            target.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False), "proxied"
        )
        cut_off = cluster.start_creator("w0", config=via_proxy)
        run = the_run(book)
        assert wait_for(progressed(book, run.id, 50), 90), "the run did not get going"
        link.cut()
        cut_at = time.monotonic()
        # Calls already sent finish within the client's worst case (< the lease); after that the
        # lease is gone and nothing may be written.
        assert wait_for(lambda: time.monotonic() - cut_at > lease_s + 0.5, lease_s + 2)
        first = len(cluster.emulator.admin.requests())
        watch_until = time.monotonic() + lease_s  # the link stays down for twice the lease in all
        assert wait_for(lambda: time.monotonic() > watch_until, lease_s + 2)
        late = cluster.emulator.admin.requests()[first:]
        writes = [e for e in late if e.method in WRITES and "/oauth2/" not in e.path]
        print(f"requests while cut beyond the lease: {len(late)}, writes: {len(writes)}")
        assert writes == []
        link.restore()
        rescuer = cluster.start_joiner(run.id, "w1")
        codes = wait_all([rescuer, cut_off], 150)
        assert codes[0] in {0, 1}, cluster.stderr("w1")[-2000:]
        # The cut-off worker either rode the outage out or stopped on the ledger error; both are fine.
        print(f"cut-off worker exit code {codes[1]}")
    finally:
        link.close()
    assert_exactly_once(cluster, book, run.id, 400)
