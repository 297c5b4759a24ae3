"""The worker's wiring: /metrics fed by the client, the progress display, and `web hash-password`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import requests
import structlog
from argon2 import PasswordHasher
from rich.console import Console

from sfsync.clock import SystemClock
from sfsync.commands import progress
from sfsync.metrics_source import ClientMetricsSource
from sfsync.settings import WebSettings
from sfsync.web import create_app, serve
from tests.integration.engine.conftest import World, renewal_job

ROOT = Path(__file__).parents[3]


def test_metrics_endpoint_shows_api_calls_budget_and_latency(world_factory: Callable[..., World]) -> None:
    """After a run, /metrics has runs by job and status, API calls, the daily budget left and latency."""
    world = world_factory()
    engine = world.make_engine()
    result = engine.run_renewals(renewal_job())
    assert result.status == "succeeded"
    source = ClientMetricsSource(lambda: {"emulator": engine.sf})
    app = create_app(
        world.ledger, WebSettings(), clock=SystemClock(), metrics_source=source, metrics_token="tok"
    )
    with serve(app) as server:
        body = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer tok"}, timeout=10).text
    assert 'sfsync_runs{job="renewal-test",status="succeeded"} 1.0' in body
    assert 'sfsync_api_calls_total{kind="query"}' in body
    assert 'sfsync_api_daily_remaining{org="emulator"}' in body
    assert 'sfsync_step_latency_seconds_bucket{le="+Inf",step="query"}' in body
    snapshot = source()
    assert snapshot.api_calls["query"] >= 1
    assert sum(snapshot.step_latency["query"].counts) == snapshot.api_calls["query"]


def test_progress_on_a_terminal_draws_steps_while_the_run_goes(world_factory: Callable[..., World]) -> None:
    """On a terminal the live table shows the run's steps and its API calls."""
    world = world_factory()
    engine = world.make_engine()
    out = StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    since = engine.clock.now()
    with progress.watch(
        world.ledger,
        console=console,
        api_calls=engine.sf.metrics.total_calls,
        run_id=lambda: progress.find_run(world.ledger, engine.tuning.worker_id, since),
        interval_s=0.05,
    ):
        result = engine.run_renewals(renewal_job())
    text = out.getvalue()
    assert f"run {result.run_id}" in text
    assert "verify" in text
    assert "API calls" in text


def test_progress_off_a_terminal_logs_run_progress(world_factory: Callable[..., World]) -> None:
    """Without a terminal the display is structured `run_progress` log lines."""
    world = world_factory()
    engine = world.make_engine()
    run = engine.create_run(renewal_job(), trigger="manual")
    console = Console(file=StringIO(), force_terminal=False)
    with (
        structlog.testing.capture_logs() as logs,
        progress.watch(
            world.ledger,
            console=console,
            api_calls=engine.sf.metrics.total_calls,
            run_id=lambda: run.id,
            log_every_s=0.05,
        ),
    ):
        engine.drive(run.id)
    lines = [e for e in logs if e["event"] == "run_progress"]
    assert lines
    assert lines[0]["run_id"] == run.id
    assert set(lines[0]["steps"]) == {"initiate", "pricing", "order", "address", "activate", "verify"}


def test_web_hash_password_reads_stdin_and_prints_an_argon2id_hash() -> None:
    """`sfsync web hash-password --stdin` prints a hash that verifies, and never the password."""
    done = subprocess.run(
        [sys.executable, "-m", "sfsync", "web", "hash-password", "--stdin"],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert hashed.startswith("$argon2id$")
    assert PasswordHasher().verify(hashed, "correct horse battery")
    assert "correct horse" not in done.stdout.replace(hashed, "") + done.stderr
