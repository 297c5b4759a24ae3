"""Issue 7: worker processes on one PostgreSQL ledger firing the same tick produce exactly one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dbfixtures import PgServer

from sfsync.ledger.ledger import open_ledger
from tests.integration.engine.conftest import World

SCRIPT = Path(__file__).with_name("fire_tick.py")
FIRE = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_three_processes_firing_one_tick_make_one_run(
    pg: PgServer, world_factory: Callable[..., World], tmp_path: Path
) -> None:
    """Three worker processes fire the same tick together: one wins, its run succeeds, one run exists."""
    world = world_factory()
    url = pg.fresh()
    go = tmp_path / "go"
    env = {
        **os.environ,
        "FIRE_TICK_LOGIN_URL": world.emulator.login_url,
        "FIRE_TICK_CLIENT_ID": world.emulator.client_id,
        "FIRE_TICK_SECRET": world.emulator.client_secret,
        "FIRE_TICK_CA": str(world.emulator.ca_path),
        "PYTHONPATH": str(Path.cwd()),
    }
    procs: list[subprocess.Popen[str]] = []
    try:
        procs += [
            subprocess.Popen(
                [sys.executable, str(SCRIPT), url, f"p{n}", FIRE.isoformat(), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n in range(3)
        ]
        for proc in procs:
            assert proc.stdout is not None
            # Log lines may come first; wait for the process to say it is ready.
            while (line := proc.stdout.readline()) and line.strip() != "ready":
                pass
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        go.touch()
        reports = []
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            reports.append(json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1]))
        winners = [r for r in reports if r["won"]]
        assert len(winners) == 1
        assert winners[0]["status"] == "succeeded"
        with open_ledger(url, migrate=False) as book:
            runs = book.runs.find(job="nightly")
            assert [r.id for r in runs] == [winners[0]["run_id"]]
            tick = book.ticks.get("nightly", FIRE)
            assert tick is not None
            assert tick.claimed_by == winners[0]["worker"]
            assert tick.run_id == winners[0]["run_id"]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        pg.drop(url)
