"""Scenario 1: the worker is killed at each step × each point, then resumed; nothing lost or doubled.

The org is an emulator in this test process (it outlives the worker); the worker is
``python -m sfsync run`` in a subprocess, pointed at it by ``SFSYNC_*`` variables, with a failpoint
armed (``SFSYNC_TEST_FAILPOINTS=step:point``, see ``sfsync/engine/failpoints.py``) that ends it with
``os._exit(137)`` exactly there — what SIGKILL leaves. ``sfsync run --resume RUN_ID`` in a fresh
process then finishes the run. Figures come from the emulator's store and request log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfsync.clock import SystemClock
from sfsync.emulator.config import FaultRule
from sfsync.emulator.harness import EmulatorHandle, running_emulator
from sfsync.engine.batch import EXIT_PAUSED
from sfsync.engine.failpoints import EXIT_KILLED
from sfsync.ledger.ledger import open_ledger
from tests.integration.engine.faultkit import config, in_window
from tests.integration.engine.faultstats import Snapshot, all_items, figures

ROOT = Path(__file__).parents[3]
STEPS = ("select", "initiate", "pricing", "order", "address", "activate", "verify")
POINTS = ("before_send", "after_send", "after_record")
WINDOW = 180
JOB = f"""
name = "crash-sweep"
kind = "renewal"
[selection]
window_days = {WINDOW}
[limits]
batch_size = 4
"""


@pytest.fixture
def org() -> Iterator[EmulatorHandle]:
    """A fresh org per case (it lives in this process, so it survives the worker's death)."""
    with running_emulator(config(), seed="synthetic:30:seed=3") as handle:
        yield handle


def _env(handle: EmulatorHandle, ledger_url: str, failpoint: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
    env.update(
        {
            "SFSYNC_DEFAULT_ORG": "emu",
            "SFSYNC_ORGS__EMU__AUTH": "client_credentials",
            "SFSYNC_ORGS__EMU__LOGIN_HOST": handle.login_url,
            "SFSYNC_ORGS__EMU__CLIENT_ID": handle.client_id,
            "SFSYNC_ORGS__EMU__CLIENT_SECRET": handle.client_secret,
            "SFSYNC_ORGS__EMU__CA_BUNDLE": str(handle.ca_path),
            # Short timeouts: an intent's lease covers the worst-case call, so this keeps it short.
            "SFSYNC_ORGS__EMU__CONNECT_TIMEOUT_S": "1",
            "SFSYNC_ORGS__EMU__READ_TIMEOUT_S": "1",
            "SFSYNC_ORGS__EMU__MAX_RETRIES": "1",
            "SFSYNC_ORGS__EMU__BACKOFF_CAP_S": "0.1",
            "SFSYNC_LEDGER__URL": ledger_url,
            "SFSYNC_LEDGER__LEASE_S": "2",
            "SFSYNC_WORKER__VERIFY_TIMEOUT_S": "30",
        }
    )
    if failpoint:
        env["SFSYNC_TEST_FAILPOINTS"] = failpoint
    return env


def _sfsync(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sfsync", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_killed_at_every_point_in_one_run(org: EmulatorHandle, tmp_path: Path) -> None:
    """One run killed at all 21 points in pipeline order (each resume armed with the next): no loss."""
    before = Snapshot.take(org)
    (tmp_path / "job.toml").write_text(JOB, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    expected = in_window(org, WINDOW)
    kills: list[str] = []
    ledger = open_ledger(url, clock=SystemClock())
    try:
        run_id: str | None = None
        for step in STEPS:
            for point in POINTS:
                args = ("run", "--resume", run_id) if run_id else ("run", "job.toml")
                proc = _sfsync(tmp_path, _env(org, url, f"{step}:{point}"), *args)
                if proc.returncode == EXIT_KILLED:
                    kills.append(f"{step}:{point}")
                else:
                    assert proc.returncode == 0, proc.stderr[-3000:]
                run_id = run_id or ledger.runs.find()[0].id
        assert run_id is not None
        if ledger.runs.get(run_id).status != "succeeded":  # type: ignore[union-attr]
            final = _sfsync(tmp_path, _env(org, url, None), "run", "--resume", run_id)
            assert final.returncode == 0, final.stderr[-3000:]
        figs = figures(org, ledger, [run_id], expected, before)
        figs.report(f"one run killed {len(kills)} times ({', '.join(kills)})")
        # Every point up to verify is reached while work is left (batches of 4 of ~14 assets).
        assert len(kills) >= 18
        assert ledger.items.counts(run_id) == {"verified": len(expected)}
        for name, f in figs.steps.items():
            assert (f.attempted, f.ok, f.lost, f.duplicated) == (len(expected), len(expected), 0, 0), name
    finally:
        ledger.close()


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("step", STEPS)
def test_killed_then_resumed(org: EmulatorHandle, tmp_path: Path, step: str, point: str) -> None:
    """Killed at step:point, then resumed: the run finishes, one quote/order/activation per asset."""
    before = Snapshot.take(org)
    (tmp_path / "job.toml").write_text(JOB, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    expected = in_window(org, WINDOW)
    assert len(expected) >= 5
    crashed = _sfsync(tmp_path, _env(org, url, f"{step}:{point}"), "run", "job.toml")
    assert crashed.returncode == EXIT_KILLED, crashed.stderr[-2000:]
    ledger = open_ledger(url, clock=SystemClock())
    try:
        [run] = ledger.runs.find()
        resumed = _sfsync(tmp_path, _env(org, url, None), "run", "--resume", run.id)
        assert resumed.returncode == 0, resumed.stdout[-1000:] + resumed.stderr[-3000:]
        figs = figures(org, ledger, [run.id], expected, before)
        figs.report(f"killed at {step}:{point}, resumed")
        assert ledger.items.counts(run.id) == {"verified": len(expected)}
        for name, f in figs.steps.items():
            assert (f.attempted, f.ok, f.lost, f.duplicated) == (len(expected), len(expected), 0, 0), name
        for asset in expected:
            assert len(before.new(org, "QuoteAction", SourceAssetId=asset)) == 1
    finally:
        ledger.close()


def test_sigterm_mid_batch_finishes_in_flight_calls(tmp_path: Path) -> None:
    """Scenario 5: SIGTERM while an initiate call is in flight: it is recorded, exit 75, then resumed."""
    slow = FaultRule("latency", rate=1.0, method="POST", path="/actions/", latency_ms=1500)
    with running_emulator(config(slow), seed="synthetic:30:seed=3") as handle:
        before = Snapshot.take(handle)
        expected = in_window(handle, WINDOW)
        (tmp_path / "job.toml").write_text(JOB, encoding="utf-8")
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        env = {**_env(handle, url, None), "SFSYNC_ORGS__EMU__READ_TIMEOUT_S": "20"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "sfsync", "run", "job.toml"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ledger = open_ledger(url, clock=SystemClock())
        try:
            # Wait (polling, with a deadline) until an intent is committed: a creating call is in flight.
            # Generous: on a loaded 2-core machine the worker's start and selection can take long.
            deadline = time.monotonic() + 150
            in_flight: list[str] = []
            while time.monotonic() < deadline and not in_flight:
                runs = ledger.runs.find() if (tmp_path / "ledger.db").exists() else []
                if runs:
                    in_flight = [i.asset_id for i in all_items(ledger, runs[0].id) if i.state == "initiating"]
                time.sleep(0.02)
            if not in_flight:
                worker.kill()
                _out, err = worker.communicate()
                pytest.fail(
                    f"no initiate call was seen in flight (worker exit {worker.returncode}): {err[-2000:]}"
                )
            signalled = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            _out, err = worker.communicate(timeout=30)
            took = time.monotonic() - signalled
            [run] = ledger.runs.find()
            items = all_items(ledger, run.id)
            states = {i.state for i in items}
            made = {a for a in expected if before.new(handle, "QuoteAction", SourceAssetId=a)}
            recorded = {i.asset_id for i in items if i.quote_id}
            print(f"SIGTERM: exit {worker.returncode} after {took:.1f} s; states {sorted(states)}")
            assert worker.returncode == EXIT_PAUSED, err[-2000:]
            assert took < 30
            assert not states & {"initiating", "ordering", "activating"}
            assert made == recorded
            resumed = _sfsync(tmp_path, env, "run", "--resume", run.id)
            assert resumed.returncode == 0, resumed.stderr[-3000:]
            figs = figures(handle, ledger, [run.id], expected, before)
            figs.report(f"SIGTERM after {took:.1f} s, then resumed")
            assert figs.total("duplicated") == 0
            assert figs.total("lost") == 0
            assert ledger.items.counts(run.id) == {"verified": len(expected)}
        finally:
            # Always reap the worker and close its pipes (a leaked pipe fails a later test).
            if worker.poll() is None:
                worker.kill()
            worker.communicate()
            ledger.close()
