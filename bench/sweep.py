"""Benchmark: sfsync's renewal sweep against a naive simple-salesforce script, and sfsync at scale.

Run by hand (not in CI, not collected by pytest)::

    .venv/bin/python bench/sweep.py                      # both parts, defaults below
    .venv/bin/python bench/sweep.py --skip-scale         # only the side-by-side comparison
    .venv/bin/python bench/sweep.py --baseline-assets 1000   # time the baseline on every asset

Part 1, side by side: two fresh emulator processes with the same seed (``synthetic:N``), 20 ms
latency per request and 0.1 s asynchronous completion (pricing and assetization). sfsync (the real
engine, in a child process) sweeps every asset ending in the next 365 days on one; the baseline
(``bench/naive_baseline.py``) sweeps a sample of them on the other, one asset at a time, and its wall
time per asset is extrapolated to the full count (the output says so). API calls are counted from
each emulator's request log (``/services/data/`` requests) through its admin endpoint.

Part 2, scale: sfsync alone on ``synthetic:100000`` with no latency; the worker runs in a child
process, which reports its own CPU time (``time.process_time()`` around the sweep) and peak RSS
(``resource.getrusage``), so the emulator's work is not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` and ``sfsync`` importable
    sys.path.insert(0, str(ROOT))

WINDOW_DAYS = 365


# -- the emulator as a process ----------------------------------------------------------------
@contextmanager
def emulator(seed: str, *, latency_ms: int, async_s: float) -> Iterator[dict[str, str]]:
    """Start ``python -m sfsync.emulator serve`` and yield its connection line; stop it afterwards."""
    cmd = [
        sys.executable, "-m", "sfsync.emulator", "serve", "--seed", seed, "--latency-ms", str(latency_ms),
        "--pricing-delay-s", str(async_s), "--assetize-delay-s", str(async_s),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                errors.seek(0)
                msg = f"the emulator did not start: {errors.read().decode()[-2000:]}"
                raise RuntimeError(msg)
            # Shipping addresses are enforced at activation, as in a real org: the synthetic
            # accounts have one, and both sfsync and the baseline copy it onto their orders.
            yield json.loads(line)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _admin(info: dict[str, str], method: str, what: str, body: object = None) -> object:
    answer = requests.request(
        method,
        f"{info['instance_url']}/__emulator__/{what}",
        headers={"X-Emulator-Admin": info["admin_token"]},
        json=body,
        verify=info["ca_path"],
        timeout=600,
    )
    answer.raise_for_status()
    return answer.json()


def api_calls(info: dict[str, str], *, detail: bool = False) -> int:
    """Data API requests the emulator answered since its log was last cleared (by kind on stderr)."""
    entries = _admin(info, "GET", "requests")
    assert isinstance(entries, list)
    data = [e for e in entries if str(e["path"]).startswith("/services/data/")]
    if detail:
        kinds = Counter(f"{e['method']} {e['action'] or str(e['path']).split('/')[4]}" for e in data)
        print(f"  calls by kind: {dict(kinds.most_common())}", file=sys.stderr)
    return len(data)


def wait_idle(info: dict[str, str]) -> None:
    """Let the emulator finish its background work (seeding side effects, assetization)."""
    _admin(info, "POST", "wait-idle", {"timeout": 60})


# -- sfsync in a child process ----------------------------------------------------------------
def worker_main(args: argparse.Namespace) -> int:
    """The child: run one renewal sweep with the real engine and print one JSON line of figures."""
    from sfsync.clock import SystemClock
    from sfsync.engine.context import Tuning
    from sfsync.engine.runner import Engine
    from sfsync.jobspec import JobSpec
    from sfsync.ledger.ledger import open_ledger
    from sfsync.logging import configure
    from sfsync.salesforce.client import SalesforceClient
    from sfsync.settings import OrgProfile

    configure(level="WARNING", fmt="json", stream=sys.stderr)
    info = json.loads(args.conn)
    profile = OrgProfile.model_validate(
        {
            "auth": "client_credentials",
            "login_host": info["login_url"],
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "ca_bundle": info["ca_path"],
        }
    )
    job = JobSpec.model_validate(
        {
            "name": "bench-sweep",
            "kind": "renewal",
            "selection": {"window_days": WINDOW_DAYS},
            "limits": {"batch_size": args.batch_size, "max_assets": 1_000_000},
        }
    )
    ledger = open_ledger(args.ledger, clock=SystemClock())
    client = SalesforceClient(profile, sleep=time.sleep)
    engine = Engine(
        ledger=ledger,
        sf=client,
        profile=profile,
        org_name="bench",
        clock=SystemClock(),
        sleep=time.sleep,
        tuning=Tuning(worker_id="bench", poll_start_s=0.1, poll_cap_s=1.0),
    )
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    cpu0, wall0, times0 = time.process_time(), time.perf_counter(), os.times()
    if profiler is not None:
        profiler.enable()
    result = engine.run_renewals(job)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    cpu, wall, times = time.process_time() - cpu0, time.perf_counter() - wall0, os.times()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    figures = {
        "status": result.status,
        "counts": result.counts,
        "cpu_s": cpu,
        "system_s": times.system - times0.system,
        "wall_s": wall,
    }
    print(json.dumps({**figures, "peak_rss_mb": peak_kb / 1024}), flush=True)
    client.close()
    ledger.close()
    return 0


def run_sfsync(
    info: dict[str, str], batch_size: int, ledger_dir: Path, profile: str = ""
) -> dict[str, object]:
    """Run the worker child against an emulator; its figures plus the API calls it made."""
    _admin(info, "DELETE", "requests")
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "worker", "--conn", json.dumps(info),
        "--ledger", f"sqlite:///{ledger_dir / 'ledger.db'}", "--batch-size", str(batch_size),
        "--profile", profile,
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        msg = f"the sfsync worker failed ({done.returncode}): {done.stderr[-3000:]}"
        raise RuntimeError(msg)
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["calls"] = api_calls(info, detail=True)
    return figures


def _assets(figures: dict[str, object]) -> int:
    counts = figures["counts"]
    assert isinstance(counts, dict)
    return sum(int(v) for v in counts.values())


# -- the parts --------------------------------------------------------------------------------
def compare(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """Part 1: rows of (measure, sfsync, baseline, ratio)."""
    from bench import naive_baseline

    seed = f"synthetic:{args.assets}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator(seed, latency_ms=args.latency_ms, async_s=args.async_s) as info,
    ):
        ours = run_sfsync(info, args.batch_size, Path(tmp))
    with emulator(seed, latency_ms=args.latency_ms, async_s=args.async_s) as info:
        _admin(info, "DELETE", "requests")
        sf = naive_baseline.connect(info["instance_url"], info["access_token"], info["ca_path"])
        base = naive_baseline.run(sf, window_days=WINDOW_DAYS, assets=args.baseline_assets)
        base_calls = api_calls(info)
    n = _assets(ours)
    print(f"sfsync: {ours['status']} {ours['counts']}", file=sys.stderr)
    print(
        f"baseline: {base.verified}/{base.attempted} verified; failures: {base.failures[:3]}", file=sys.stderr
    )
    sample = max(base.attempted, 1)
    # The baseline's one selection query is shared by all assets; everything else is per asset.
    per_asset_calls = (base_calls - 1) / sample
    base_calls_n = 1 + per_asset_calls * n
    base_wall_n = base.wall_s / sample * n
    sampled = base.attempted < n
    note = f" (extrapolated from {base.attempted})" if sampled else ""
    ours_calls = int(str(ours["calls"]))
    ours_wall = float(str(ours["wall_s"]))
    return [
        ("assets swept", str(n), f"{n}{note}", ""),
        (
            "API calls",
            str(ours_calls),
            f"{base_calls_n:,.0f}{note}",
            f"{base_calls_n / max(ours_calls, 1):,.0f}×",
        ),
        (
            "API calls per asset (target sfsync ≤ 0.05)",
            f"{ours_calls / n:.3f}",
            f"{base_calls_n / n:.2f}",
            f"{base_calls_n / max(ours_calls, 1):,.0f}×",
        ),
        (
            "wall time, s (target ≥ 50× shorter)",
            f"{ours_wall:.1f}",
            f"{base_wall_n:,.1f}{note}",
            f"{base_wall_n / ours_wall:,.0f}×",
        ),
        ("sfsync worker CPU, s", f"{float(str(ours['cpu_s'])):.2f}", "", ""),
    ]


def scale(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """Part 2: rows of (measure, sfsync, target, met)."""
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator(f"synthetic:{args.scale_assets}", latency_ms=0, async_s=0.1) as info,
    ):
        seeded = time.perf_counter() - started
        ours = run_sfsync(info, args.batch_size, Path(tmp), args.profile)
    n = _assets(ours)
    print(f"sfsync at scale: {ours['status']} {ours['counts']}", file=sys.stderr)
    cpu_ms = float(str(ours["cpu_s"])) * 1000 / max(n, 1)
    rss = float(str(ours["peak_rss_mb"]))
    return [
        ("emulator start + seed, s", f"{seeded:.1f}", "", ""),
        ("assets swept", str(n), "", ""),
        (
            "API calls per asset",
            f"{int(str(ours['calls'])) / max(n, 1):.4f}",
            "≤ 0.05",
            _met(int(str(ours["calls"])) / max(n, 1) <= 0.05),
        ),
        ("wall time, s", f"{float(str(ours['wall_s'])):.1f}", "", ""),
        ("worker CPU per asset, ms", f"{cpu_ms:.3f}", "≤ 0.5", _met(cpu_ms <= 0.5)),
        ("… of which in the kernel, ms", f"{float(str(ours['system_s'])) * 1000 / max(n, 1):.3f}", "", ""),
        ("worker peak RSS, MB", f"{rss:.0f}", "≤ 200", _met(rss <= 200)),
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def machine() -> str:
    """Date and machine line for the report."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    ram_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs ({model}) · "
        f"{ram_kb / 1024**2:.0f} GB RAM · Python {platform.python_version()}"
    )


def table(title: str, header: tuple[str, str, str, str], rows: list[tuple[str, str, str, str]]) -> str:
    """A Markdown table."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen parts."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1000, help="assets in the side-by-side org")
    parser.add_argument(
        "--baseline-assets", type=int, default=50, help="assets the baseline sweeps (then extrapolated)"
    )
    parser.add_argument("--scale-assets", type=int, default=100_000, help="assets in the scale run")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--async-s", type=float, default=0.1, help="pricing and assetization delay")
    parser.add_argument("--batch-size", type=int, default=1000, help="the job's [limits] batch_size")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument(
        "--profile", default="", help="scale part: write the worker's cProfile stats to this file"
    )
    parser.add_argument("--skip-scale", action="store_true")
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("worker", help="internal: the sfsync child process")
    worker.add_argument("--conn", required=True)
    worker.add_argument("--ledger", required=True)
    worker.add_argument("--batch-size", type=int, default=1000)
    worker.add_argument("--profile", default="", help="write the sweep's cProfile stats here")
    args = parser.parse_args(argv)
    if args.command == "worker":
        return worker_main(args)
    print(f"sfsync benchmark — {machine()}\n")
    if not args.skip_compare:
        rows = compare(args)
        title = (
            f"Renewal sweep of {args.assets:,} assets, {args.latency_ms} ms latency, {args.async_s} s async"
        )
        print(table(title, ("measure", "sfsync", "naive baseline", "ratio"), rows) + "\n", flush=True)
    if not args.skip_scale:
        rows = scale(args)
        title = f"sfsync alone, {args.scale_assets:,} assets, no latency"
        print(table(title, ("measure", "sfsync", "target", ""), rows) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
