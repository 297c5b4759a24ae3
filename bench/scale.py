"""Scale-out benchmark (issue 7): one renewal sweep driven by 1, 2 and 4 worker processes on PostgreSQL.

Each round gets a fresh PostgreSQL database and a fresh emulated org (``synthetic:N``, every asset in
the sweep's window) with a fixed latency on every data request; one worker process creates the run
(``sfsync run JOB``) and the others join it (``sfsync run --join RUN_ID``). The wall time runs from
the first worker's start to the last worker's exit. Figures are checked against the org: one quote,
order and activation per asset, nothing duplicated.

    .venv/bin/python bench/scale.py [--assets 1000] [--workers 1,2,4] [--latency-ms 20]

PostgreSQL comes from ``SFSYNC_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sfsync.clock import SystemClock  # noqa: E402
from sfsync.emulator.config import EmulatorConfig  # noqa: E402
from sfsync.emulator.harness import running_emulator  # noqa: E402
from sfsync.ledger.ledger import open_ledger  # noqa: E402
from sfsync.logging import configure as configure_logging  # noqa: E402
from tests.dbfixtures import PgServer, pg_url  # noqa: E402
from tests.integration.scale.cluster import Cluster, effects, the_run, wait_all  # noqa: E402


@dataclass(frozen=True)
class Round:
    """One measured sweep."""

    workers: int
    wall_s: float
    counts: dict[str, int]
    duplicated: int
    missing: int
    codes: list[int]
    #: CPU seconds used by the worker processes and by this process (the emulated org).
    workers_cpu_s: float
    org_cpu_s: float


def sweep(server: PgServer, workdir: Path, assets: int, workers: int, latency_ms: int) -> Round:
    """Run one sweep of ``assets`` with ``workers`` processes; its wall time and what the org shows."""
    url = server.fresh()
    config = EmulatorConfig(
        pricing_delay_s=0.05, assetize_delay_s=0.05, latency_ms=latency_ms, enforce_shipping_address=False
    )
    try:
        with running_emulator(config, seed=f"synthetic:{assets}") as emulator:
            book = open_ledger(url, clock=SystemClock())
            try:
                cluster = Cluster(workdir / f"w{workers}", emulator, url, lease_s=30.0)
                started = time.monotonic()
                cpu_before, children_before = time.process_time(), _children_cpu()
                try:
                    procs = [cluster.start_creator("w0")]
                    run = the_run(book, timeout=120)
                    procs += [cluster.start_joiner(run.id, f"w{n}") for n in range(1, workers)]
                    codes = wait_all(procs, 3600)
                finally:
                    cluster.close()
                wall = time.monotonic() - started
                org_cpu = time.process_time() - cpu_before
                workers_cpu = _children_cpu() - children_before
                org = effects(emulator)
                items = book.items.find(run.id, limit=1_000_000)
                missing = sum(1 for item in items if org.activated[item.asset_id] != 1)
                counts = book.items.counts(run.id)
                return Round(workers, wall, counts, org.duplicated(), missing, codes, workers_cpu, org_cpu)
            finally:
                book.close()
    finally:
        server.drop(url)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Measure each worker count and print wall time and speed-up."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    # The emulator logs every assetization at INFO; the benchmark prints only its table.
    configure_logging(level="WARNING", stream=sys.stderr)
    server = PgServer(pg_url())
    rounds: list[Round] = []
    try:
        with tempfile.TemporaryDirectory(prefix="sfsync-bench-") as tmp:
            for workers in counts:
                rounds.append(sweep(server, Path(tmp), args.assets, workers, args.latency_ms))
                done = rounds[-1]
                print(
                    f"  {workers} worker(s): {done.wall_s:.1f} s {done.counts}", file=sys.stderr, flush=True
                )
    finally:
        server.close()
    base = rounds[0].wall_s
    print(f"sweep of {args.assets} assets, {args.latency_ms} ms latency, PostgreSQL, {os.cpu_count()} CPU(s)")
    print(
        f"{'workers':>7} {'wall s':>8} {'items/s':>8} {'speed-up':>9} {'dup':>4} {'missing':>8} "
        f"{'cpu workers':>12} {'cpu org':>8} {'load':>5}  exit codes"
    )
    for r in rounds:
        print(
            f"{r.workers:>7} {r.wall_s:>8.1f} {args.assets / r.wall_s:>8.1f} {base / r.wall_s:>8.2f}x "
            f"{r.duplicated:>4} {r.missing:>8} {r.workers_cpu_s:>11.1f}s {r.org_cpu_s:>7.1f}s "
            f"{(r.workers_cpu_s + r.org_cpu_s) / r.wall_s:>5.2f}  {r.codes}"
        )
    # Speed-up needs idle CPU for the extra workers; this line tells whether there was any.
    print("load = CPU seconds (workers + emulated org) per wall second; near the CPU count = CPU-bound")
    return 0 if all(r.duplicated == 0 and r.missing == 0 for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
