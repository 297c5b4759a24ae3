"""A worker gone mid-run: the run's next worker says whom it waits for; `sfsync runs release` hands over."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sfsync.cli import EXIT_OK, EXIT_USAGE, main
from sfsync.emulator.harness import wait_for
from sfsync.engine.runner import RunResult
from sfsync.ledger.records import Event
from tests.integration.engine.conftest import World, renewal_job

GHOST = "host-gone:4242:51234567"
#: As long as an intent's lease with the default profile: a resumed run must not wait for it.
GHOST_LEASE_S = 930.0


def _config(tmp_path: Path, world: World) -> Path:
    config = tmp_path / "sfsync.toml"
    url = world.ledger.engine.url.render_as_string(hide_password=False)
    config.write_text(f'[ledger]\nurl = "{url}"\n', encoding="utf-8")
    return config


def _ghost_run(world: World) -> tuple[str, int]:
    """A selected run whose items a worker claimed just before it died (its leases still run)."""
    stopped = threading.Event()
    stopped.set()
    paused = world.make_engine(stop=stopped).run_renewals(renewal_job())
    assert paused.status == "paused"
    held = world.ledger.claims.claim(paused.run_id, ["selected"], GHOST, 1000, GHOST_LEASE_S)
    assert held
    return paused.run_id, len(held)


def test_resumed_run_names_the_gone_worker_and_takes_over_once_released(
    world_factory: Callable[..., World], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The next worker logs whom it waits for; `runs show` lists the lease; `runs release` ends the wait."""
    world = world_factory("capricorn")
    config = _config(tmp_path, world)
    run_id, count = _ghost_run(world)
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        drive = pool.submit(world.make_engine(worker="w2", stop=stop).drive, run_id)
        try:
            result = _wait_then_release(world, config, run_id, count, drive, capsys)
        finally:
            stop.set()  # a failed check must not leave the worker waiting for the leases
    assert result.status == "succeeded", result.message
    assert result.counts == {"verified": count}
    assert [h.worker_id for h in world.ledger.claims.holders(run_id)] == []
    [released] = [e for e in world.ledger.events.find(run_id) if e.event == "leases_released"]
    assert released.fields == {"worker_id": GHOST, "items": count, "by": "sfsync runs release"}


def _wait_then_release(
    world: World,
    config: Path,
    run_id: str,
    count: int,
    drive: Future[RunResult],
    capsys: pytest.CaptureFixture[str],
) -> RunResult:
    """Check what the waiting worker and `runs show` say, release the gone worker, await the end."""

    def waiting() -> list[Event]:
        return [e for e in world.ledger.events.find(run_id) if e.event == "waiting_for_leases"]

    assert wait_for(lambda: waiting() or drive.done(), timeout=60)
    assert not drive.done(), "the run ended while a gone worker held its items"
    [said] = waiting()
    [holder] = said.fields["holders"]
    assert (holder["worker_id"], holder["items"]) == (GHOST, count)
    assert datetime.fromisoformat(holder["until"]) > datetime.now(UTC)
    assert f"sfsync runs release {run_id} --worker ID" in said.fields["hint"]

    capsys.readouterr()
    assert main(["--config", str(config), "--json", "runs", "show", run_id]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert [(h["worker_id"], h["items"]) for h in shown["leases"]] == [(GHOST, count)]

    assert main(["--config", str(config), "runs", "release", run_id, "--worker", GHOST, "--yes"]) == EXIT_OK
    assert f"{count} item(s) released" in capsys.readouterr().out
    return drive.result(timeout=120)


def test_release_refuses_a_worker_holding_nothing_and_asks_for_yes(
    world_factory: Callable[..., World], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped worker is refused with the real holders listed; without a terminal, --yes is needed."""
    world = world_factory("capricorn")
    config = _config(tmp_path, world)
    run_id, count = _ghost_run(world)
    capsys.readouterr()
    code = main(["--config", str(config), "runs", "release", run_id, "--worker", "host-typo:1:2", "--yes"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "'host-typo:1:2' holds no lease" in err
    assert f"{count} item(s) by worker {GHOST}" in err
    code = main(["--config", str(config), "runs", "release", run_id, "--worker", GHOST])
    assert code == EXIT_USAGE
    assert "--yes" in capsys.readouterr().err
    # Nothing was released by either call.
    assert [(h.worker_id, h.items) for h in world.ledger.claims.holders(run_id)] == [(GHOST, count)]
